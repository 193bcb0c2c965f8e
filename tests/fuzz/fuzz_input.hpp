// FuzzInput: carves typed values out of a fuzzer's byte string. A minimal stand-in for clang's
// FuzzedDataProvider, which gcc builds (the corpus replay test) do not have. Running out of bytes
// yields zeros and empty strings, never an error, so every input is a valid test case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace muxio::ftp::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  template <class T>
  T integral() {
    T value{};
    const std::size_t n = rest_.size() < sizeof(T) ? rest_.size() : sizeof(T);
    std::memcpy(&value, rest_.data(), n);
    rest_.remove_prefix(n);
    return value;
  }

  // Bytes up to the next '\x00' separator (consumed) or the end: keeps seed files readable.
  std::string_view field() {
    const auto sep = rest_.find('\0');
    const auto out = rest_.substr(0, sep);
    rest_.remove_prefix(sep == std::string_view::npos ? rest_.size() : sep + 1);
    return out;
  }

  std::string_view rest() {
    const auto out = rest_;
    rest_ = {};
    return out;
  }

  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// The fuzzers' assertion: abort() (which libFuzzer and the replay test both report as a crash)
// with a message, whatever NDEBUG says.
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

}  // namespace muxio::ftp::fuzz
