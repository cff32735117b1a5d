//! Embeds the generated service catalog (`commands/services/*.json.gz`, written by
//! `scripts/gen-commands.py`): one compressed blob per service, listed by name, so
//! `src/catalog.rs` inflates only the services a process uses.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read at run time, not with env!(): a build script compiled for one checkout may be
    // reused for another that shares the target directory.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("commands/services");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("commands/services exists (scripts/gen-commands.py writes it)")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json.gz").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut out = String::from("&[\n");
    for name in &names {
        let path = dir.join(format!("{name}.json.gz"));
        writeln!(out, "    ({name:?}, include_bytes!({:?})),", path.display()).unwrap();
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("service_blobs.rs");
    std::fs::write(target, out).unwrap();
}
