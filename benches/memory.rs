//! Issue #4's memory target: the channel memory (default account and region) of 100,000
//! channels costs under 64 MB. Run: `cargo bench --bench memory`. Prints the resident set
//! growth; BENCHMARKS.md records the result.
//!
//! Issue #12's: the command catalog costs what the services in use cost, not what the 424
//! known ones would: the resident set after the index, after one service (ec2, the largest),
//! and (with `--bench`) after every service, which the bot never does.

use aws_chatops::config::Config;
use aws_chatops::prompt::Conversations;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn catalog_memory(full: bool) {
    use aws_chatops::catalog::Catalog;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let start = resident_bytes();
    let catalog = Catalog::builtin();
    let services = catalog.entries().len();
    let indexed = resident_bytes();
    assert!(catalog.service("ec2").is_some());
    let one = resident_bytes();
    println!(
        "catalog: index of {services} services +{:.1} MiB; ec2 loaded +{:.1} MiB",
        mib(indexed.saturating_sub(start)),
        mib(one.saturating_sub(indexed))
    );
    if full {
        let count = catalog.services().count();
        println!(
            "catalog: all {count} services loaded (never done by the bot) +{:.1} MiB",
            mib(resident_bytes().saturating_sub(one))
        );
    }
}

fn main() {
    catalog_memory(std::env::args().any(|a| a == "--bench"));
    // `cargo test --all-targets` runs benches as tests: keep that quick.
    let channels: usize = if std::env::args().any(|a| a == "--bench") {
        100_000
    } else {
        1_000
    };
    let config = Config::from_toml(include_str!("../fixtures/config/demo.toml")).unwrap();
    let conversations = Conversations::new(&config);
    let before = resident_bytes();
    for i in 0..channels {
        let channel = format!("C{i:010}");
        conversations.remember_account(&channel, &format!("{:012}", 100_000_000_000u64 + i as u64));
        conversations.remember_region(&channel, "eu-west-1");
    }
    conversations.run_pending_tasks();
    let after = resident_bytes();
    let grown = after.saturating_sub(before) as f64 / (1024.0 * 1024.0);
    println!(
        "channel memory: {channels} channels, resident set grew by {grown:.1} MiB ({:.0} bytes per channel); target for 100,000: under 64 MB",
        (after.saturating_sub(before)) as f64 / channels as f64
    );
    assert_eq!(
        conversations.memory("C0000000007").region.as_deref(),
        Some("eu-west-1")
    );
}
