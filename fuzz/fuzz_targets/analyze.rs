//! Any bytes, as texts for the default analyser: its fast path must give exactly the tokens
//! of `tokenizers` (NFKC, Lowercase, the Whitespace pre-tokeniser) on every text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| stance_fuzz::check_analyzer(data));
