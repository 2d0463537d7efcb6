//! Iceberg v3 deletion vectors: one `deletion-vector-v1` Puffin blob per data file.
//!
//! The blob layout (Iceberg spec, "Deletion Vectors"):
//!
//! ```text
//!   length (u32 BE) | magic D1 D3 39 64 | roaring64 "portable" vector | CRC-32 (u32 BE)
//!                     \________ length bytes ______________________/
//! ```
//!
//! The CRC covers the magic and the vector. The manifest entry gives the blob's offset and size,
//! so the Puffin footer is never read.

use iceberg::io::FileIO;
use roaring::RoaringTreemap;

use crate::error::ScanError;

const MAGIC: [u8; 4] = [0xD1, 0xD3, 0x39, 0x64];

/// Where one deletion vector lies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VectorRef {
    pub puffin_path: String,
    pub offset: u64,
    pub length: u64,
}

/// Reads the blob `at` points to and decodes its positions.
pub async fn load_vector(file_io: &FileIO, at: &VectorRef) -> Result<RoaringTreemap, ScanError> {
    let input = file_io.new_input(&at.puffin_path)?;
    let reader = input.reader().await?;
    let end = at
        .offset
        .checked_add(at.length)
        .ok_or_else(|| bad_blob(at, "offset and length overflow".into()))?;
    let bytes = reader.read(at.offset..end).await?;
    if bytes.len() as u64 != at.length {
        return Err(bad_blob(
            at,
            format!(
                "the file holds only {} of its {} bytes",
                bytes.len(),
                at.length
            ),
        ));
    }
    decode_vector(&bytes).map_err(|reason| bad_blob(at, reason))
}

/// Decodes a `deletion-vector-v1` blob; the reason when it is not one.
pub fn decode_vector(blob: &[u8]) -> Result<RoaringTreemap, String> {
    if blob.len() < 12 {
        return Err(format!(
            "{} bytes is too short for a deletion vector",
            blob.len()
        ));
    }
    let declared = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if declared + 8 != blob.len() {
        return Err(format!(
            "declared length {declared} does not match the blob's {} bytes",
            blob.len()
        ));
    }
    let body = &blob[4..4 + declared];
    if body[..4] != MAGIC {
        return Err(format!(
            "magic {:02X?} is not a deletion-vector-v1 blob's",
            &body[..4]
        ));
    }
    let stored = u32::from_be_bytes([
        blob[4 + declared],
        blob[5 + declared],
        blob[6 + declared],
        blob[7 + declared],
    ]);
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(format!(
            "checksum {stored:08x} does not match the content's {computed:08x}"
        ));
    }
    RoaringTreemap::deserialize_from(&body[4..]).map_err(|e| format!("bitmap: {e}"))
}

fn bad_blob(at: &VectorRef, reason: String) -> ScanError {
    ScanError::DeleteFile {
        path: format!(
            "{} (blob at {}, {} bytes)",
            at.puffin_path, at.offset, at.length
        ),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob as the spec lays it out, around `positions`.
    fn blob(positions: &[u64]) -> Vec<u8> {
        let bitmap: RoaringTreemap = positions.iter().copied().collect();
        let mut body = MAGIC.to_vec();
        bitmap.serialize_into(&mut body).expect("serialize");
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
        out
    }

    #[test]
    fn decodes_positions_across_the_32_bit_boundary() {
        let positions = [0, 7, 65_536, 1 << 33];
        let decoded = decode_vector(&blob(&positions)).expect("decodes");
        assert_eq!(decoded.iter().collect::<Vec<_>>(), positions);
    }

    #[test]
    fn refuses_a_corrupt_blob_with_the_reason() {
        let mut corrupt = blob(&[1, 2, 3]);
        let last = corrupt.len() - 5;
        corrupt[last] ^= 0xFF;
        assert!(decode_vector(&corrupt).unwrap_err().contains("checksum"));

        let mut other_kind = blob(&[1]);
        other_kind[4] = 0x00;
        assert!(decode_vector(&other_kind).unwrap_err().contains("magic"));

        assert!(decode_vector(&[0; 5]).unwrap_err().contains("too short"));
        let mut truncated = blob(&[1, 2]);
        truncated.pop();
        assert!(decode_vector(&truncated).unwrap_err().contains("length"));
    }
}
