//! Links libjxl into whatever depends on this crate (see `build.rs`): the C API itself is declared where it
//! is called, in dicomfast-native's `pixel::codec::libjxl`.
#![no_std]
