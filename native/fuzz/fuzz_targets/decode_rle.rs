//! Fuzz the rle decoder (1.2.840.10008.1.2.5) through the registry: never a panic, only `Ok` or a decode error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dicomfast_fuzz::run("1.2.840.10008.1.2.5", data));
