//! Any bytes as a model file (mode byte 0), as a model's content behind a matching header
//! and checksum (1), or as edits to a valid small model's content (2): a model or a typed
//! error, never a panic, and memory bounded by a small multiple of the input. A model that
//! loads is used (predict, explain, top features, reports) and must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // Train the small valid model once, before the first input.
        std::sync::LazyLock::force(&stance_fuzz::VALID_CONTENT);
        if let Some(dir) = std::env::var_os("STANCE_FUZZ_WRITE_SEEDS") {
            stance_fuzz::write_model_seeds(std::path::Path::new(&dir)).expect("write the seeds");
        }
    },
    |data: &[u8]| stance_fuzz::check_model(data)
);
