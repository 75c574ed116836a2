//! Any bytes, read as text input (labelled and unlabelled): records or a typed error,
//! never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stance::corpus::Format;

fuzz_target!(|data: &[u8]| stance_fuzz::check_reader(data, Format::Text));
