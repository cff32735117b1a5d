//! Issue #4's memory target: the channel memory (default account and region) of 100,000
//! channels costs under 64 MB. Run: `cargo bench --bench memory`. Prints the resident set
//! growth; BENCHMARKS.md records the result.

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

#[tokio::main(flavor = "current_thread")]
async fn main() {
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
        conversations
            .remember_account(&channel, &format!("{:012}", 100_000_000_000u64 + i as u64))
            .await
            .unwrap();
        conversations
            .remember_region(&channel, "eu-west-1")
            .await
            .unwrap();
    }
    // Counting runs moka's pending maintenance, so the resident set is current.
    let _ = conversations.pending_count();
    let after = resident_bytes();
    let grown = after.saturating_sub(before) as f64 / (1024.0 * 1024.0);
    println!(
        "channel memory: {channels} channels, resident set grew by {grown:.1} MiB ({:.0} bytes per channel); target for 100,000: under 64 MB",
        (after.saturating_sub(before)) as f64 / channels as f64
    );
    assert_eq!(
        conversations
            .memory("C0000000007")
            .await
            .unwrap()
            .region
            .as_deref(),
        Some("eu-west-1")
    );
}
