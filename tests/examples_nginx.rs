//! `examples/nginx.conf` passes `nginx -t` inside a minimal main config, when
//! nginx is installed (set `NGINX=/path/to/nginx` to use one off the PATH).

use std::path::Path;
use std::process::Command;

#[test]
fn nginx_accepts_the_example() {
    let nginx = std::env::var("NGINX").unwrap_or_else(|_| "nginx".into());
    if Command::new(&nginx).arg("-v").output().is_err() {
        eprintln!(
            "SKIP: nginx not found (apt-get install nginx, or NGINX=path); nginx.conf not checked"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = rcgen::generate_simple_self_signed(vec!["zeroclaw.example.com".into()]).unwrap();
    std::fs::write(d.join("cert.pem"), key.cert.pem()).unwrap();
    std::fs::write(d.join("key.pem"), key.signing_key.serialize_pem()).unwrap();

    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nginx.conf"))
            .unwrap();
    let crt = "/etc/ssl/certs/zeroclaw.example.com.crt";
    let k = "/etc/ssl/private/zeroclaw.example.com.key";
    assert!(example.contains(crt) && example.contains(k));
    let site = example
        .replace(crt, &d.join("cert.pem").display().to_string())
        .replace(k, &d.join("key.pem").display().to_string());
    std::fs::write(d.join("zeroclaw.conf"), site).unwrap();

    let p = d.display();
    let main = format!(
        "pid {p}/nginx.pid;\nerror_log {p}/error.log;\nevents {{}}\nhttp {{\n\
         client_body_temp_path {p}/t1; proxy_temp_path {p}/t2; fastcgi_temp_path {p}/t3;\n\
         uwsgi_temp_path {p}/t4; scgi_temp_path {p}/t5; access_log off;\n\
         include {p}/zeroclaw.conf;\n}}\n"
    );
    std::fs::write(d.join("nginx.conf"), main).unwrap();
    let out = Command::new(&nginx)
        .arg("-t")
        .arg("-p")
        .arg(d)
        .arg("-c")
        .arg(d.join("nginx.conf"))
        .arg("-e")
        .arg(d.join("error.log"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nginx -t failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
