//! When a file was last written, from the object store itself.
//!
//! iceberg's `FileIO` reports a file's size only, and its OpenDAL operators are private; this
//! builds an OpenDAL operator from the same storage properties the `FileIO` was configured with
//! (local files and S3, the stores lakegate is configured for) and asks it.

use std::time::SystemTime;

use iceberg::io::{
    FileIO, S3_ACCESS_KEY_ID, S3_ENDPOINT, S3_PATH_STYLE_ACCESS, S3_REGION, S3_SECRET_ACCESS_KEY,
    S3_SESSION_TOKEN,
};
use opendal::Operator;

use crate::error::ScanError;

/// The file's last-modified time; `None` when the store does not say.
pub async fn modified(file_io: &FileIO, path: &str) -> Result<Option<SystemTime>, ScanError> {
    let failed = |reason: String| ScanError::FileStat {
        path: path.to_string(),
        reason,
    };
    let (operator, relative) = operator_for(file_io, path).map_err(failed)?;
    let stat = operator
        .stat(&relative)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(stat.last_modified().map(SystemTime::from))
}

/// An operator for the store `path` is in, and the path within it.
fn operator_for(file_io: &FileIO, path: &str) -> Result<(Operator, String), String> {
    let local = path
        .strip_prefix("file://")
        .or_else(|| path.starts_with('/').then_some(path));
    if let Some(local) = local {
        let operator = Operator::new(opendal::services::Fs::default().root("/"))
            .map_err(|e| e.to_string())?
            .finish();
        return Ok((operator, local.to_string()));
    }
    let Some((bucket, key)) = ["s3://", "s3a://", "s3n://"]
        .iter()
        .find_map(|scheme| path.strip_prefix(scheme))
        .and_then(|rest| rest.split_once('/'))
    else {
        return Err(format!(
            "{path}: $file_modified_time is read from local files and S3 only"
        ));
    };
    let props = file_io.config();
    let mut s3 = opendal::services::S3::default().bucket(bucket);
    for (key, set) in [
        (
            S3_ENDPOINT,
            opendal::services::S3::endpoint as fn(_, &str) -> _,
        ),
        (S3_REGION, opendal::services::S3::region),
        (S3_ACCESS_KEY_ID, opendal::services::S3::access_key_id),
        (
            S3_SECRET_ACCESS_KEY,
            opendal::services::S3::secret_access_key,
        ),
        (S3_SESSION_TOKEN, opendal::services::S3::session_token),
    ] {
        if let Some(value) = props.get(key) {
            s3 = set(s3, value);
        }
    }
    if props.get(S3_PATH_STYLE_ACCESS).map(String::as_str) == Some("false") {
        s3 = s3.enable_virtual_host_style();
    }
    let operator = Operator::new(s3).map_err(|e| e.to_string())?.finish();
    Ok((operator, key.to_string()))
}
