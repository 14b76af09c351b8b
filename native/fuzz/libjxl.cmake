# CMake toolchain file for the fuzz build (fuzz.sh exports CMAKE_TOOLCHAIN_FILE, which the cmake crate passes
# to every C codec it builds). It only turns off libjxl's own libFuzzer programs: libjxl's CMake builds them
# whenever the compiler accepts -fsanitize=fuzzer-no-link (clang does), and they fail to link inside a cargo
# build script. Our targets (decode_jxl) drive libjxl instead. Nothing else is set: compilers and flags come
# from CC / CXX / CFLAGS / CXXFLAGS as before.
set(JPEGXL_ENABLE_FUZZERS OFF CACHE BOOL "libjxl's own fuzzer programs (cargo-fuzz drives libjxl here)" FORCE)
