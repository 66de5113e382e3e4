// Tells the tests where the read-only data beside the repo lives ($MOBILENET_SHARED, or ../shared), so
// browser tests can embed a model at compile time without the repo holding a copy.
use std::path::PathBuf;

fn main() {
    let dir = match std::env::var_os("MOBILENET_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    };
    println!("cargo:rustc-env=MOBILENET_SHARED_DIR={}", dir.display());
    println!("cargo:rerun-if-env-changed=MOBILENET_SHARED");
}
