//! normalize → parse → guard on arbitrary messages: nothing may panic, and nothing on the
//! built-in deny list may ever be decided run or confirm.
#![no_main]

use std::sync::LazyLock;

use aws_chatops::config::Config;
use aws_chatops::guard::{Decision, Guard};
use aws_chatops::normalize::normalize;
use aws_chatops::parse::{parse, Parsed};
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::from_toml(include_str!("../../fixtures/config/demo.toml")).expect("demo config")
});
static GUARD: LazyLock<Guard> = LazyLock::new(|| Guard::new(&CONFIG).expect("guard"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = normalize(text);
    match parse(&text) {
        Ok(Parsed::Command(request)) => {
            let decision = GUARD.check(&CONFIG.channels[0], &request, None);
            let service = request.service.service.as_str();
            if matches!(decision, Decision::Run | Decision::Confirm) {
                assert!(!matches!(service, "iam" | "sts" | "kms"), "{text}");
                assert!(request.refused_options.is_empty(), "{text}");
                assert!(request.file_values.is_empty(), "{text}");
            }
        }
        Ok(Parsed::Unsupported { service, operation }) => {
            let _ = GUARD.unsupported(&service, operation.as_deref());
        }
        Ok(Parsed::Help(_)) | Err(_) => {}
    }
});
