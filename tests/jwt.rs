//! JWT bearer tokens from an identity provider (`auth.jwt_*`), next to the users file, on every
//! front end: RS256 and ES256 tokens accepted, their groups claim feeding access control, and
//! expired, wrong-audience and badly signed tokens refused with the reason. The tokens are
//! signed by tests/python/jwt_client.py (PyJWT), as an identity provider would.

mod common;

use std::process::Command;

use common::{LocalServer, TestCertificates, python, shared_lake};

const RULES: &str = r#"{
  "tables": [
    {"user": "ana", "privileges": ["SELECT"]},
    {"group": "analysts", "schema": "tpch", "privileges": ["SELECT"]}
  ]
}"#;

fn jwt_client(args: &[&str]) -> std::process::Output {
    Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/jwt_client.py"
        ))
        .args(args)
        .output()
        .expect("run jwt_client.py")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_provider_tokens_are_checked_on_every_front_end() {
    check_tokens(false).await;
}

/// The same, with the key set fetched from the provider's JWKS URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_set_can_come_from_a_jwks_url() {
    check_tokens(true).await;
}

async fn check_tokens(jwks_by_url: bool) {
    lakegate_coordinator::tls::install_crypto_provider();
    let lake = shared_lake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let made = jwt_client(&["keys", "--dir", &path("")]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let certificates = TestCertificates::make(dir.path());
    let hash = lakegate_coordinator::auth::hash_password("pa55").expect("hash");
    std::fs::write(
        path("users.toml"),
        format!("[[users]]\nname = \"ana\"\npassword_hash = \"{hash}\"\n"),
    )
    .expect("users file");
    std::fs::write(path("rules.json"), RULES).expect("rules");
    // The provider's key set: a file, or served on loopback as an identity provider does.
    let mut provider = None;
    let jwks = if jwks_by_url {
        let mut server = Command::new(python())
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve the key set");
        let mut line = String::new();
        let stdout = server.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("http.server's banner");
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .expect("a port in the banner")
            .to_string();
        provider = Some(common::KillOnDrop(server));
        format!("auth.jwt_jwks_url=http://127.0.0.1:{port}/jwks.json")
    } else {
        format!("auth.jwt_jwks_file={}", path("jwks.json"))
    };
    let settings = [
        "auth.mode=users".to_string(),
        format!("auth.users_file={}", path("users.toml")),
        format!("auth.access_control_file={}", path("rules.json")),
        jwks,
        "auth.jwt_issuer=https://idp.test".to_string(),
        "auth.jwt_audience=lakegate".to_string(),
        "auth.jwt_groups_claim=groups".to_string(),
        format!("server.tls_cert={}", certificates.cert.display()),
        format!("server.tls_key={}", certificates.key.display()),
        format!("cluster.tls_ca={}", certificates.ca.display()),
    ];
    let mut args = Vec::new();
    for setting in &settings {
        args.extend(["--set", setting.as_str()]);
    }
    let server = LocalServer::start(&lake.warehouse, &args);
    let output = jwt_client(&[
        "check",
        "--dir",
        &path(""),
        "--flight",
        &server.port.to_string(),
        "--http",
        &server.http_port.to_string(),
        "--postgres",
        &server.postgres_port.to_string(),
        "--ca",
        &certificates.ca.display().to_string(),
    ]);
    assert!(
        output.status.success(),
        "jwt_client.py check failed\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{}", String::from_utf8_lossy(&output.stdout));
    drop(provider);
}
