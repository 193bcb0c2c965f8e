// Corpus replay: runs a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so gcc builds
// (and `make test` under ASan + UBSan) exercise every fuzz entry point. Usage:
//   fuzz_replay_<target> CORPUS_DIR [GENERATED_INPUTS]
// Runs every seed file in CORPUS_DIR, then GENERATED_INPUTS (default 20000) inputs derived
// deterministically (fixed mt19937 seed) from the seeds: mutations, splices, and random bytes.
// A violated invariant aborts, which fails the test; the offending input is printed as it dies.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// Byte strings the targets' grammars care about, inserted by the mutator.
const std::string_view kTokens[] = {"\r\n",     "\n",
                                    "\r",       "\xff",
                                    "\xff\xff", "\xff\xf4\xff\xf2",
                                    "/",        "//",
                                    "..",       ".",
                                    "/../",     "|",
                                    ",",        "255",
                                    "256",      "0",
                                    ":",        "::",
                                    "|1|",      "|2|",
                                    " ",        std::string_view("\0", 1),
                                    "USER ",    "RETR ",
                                    "\"",       ";",
                                    "="};

std::vector<std::string> load_seeds(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());  // a fixed order keeps the generated inputs fixed
  std::vector<std::string> seeds;
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return seeds;
}

class Generator {
 public:
  explicit Generator(const std::vector<std::string>& seeds) : seeds_(seeds) {}

  std::string next() {
    if (seeds_.empty() || pick(4) == 0) return random_bytes(pick(256));
    std::string s = seeds_[pick(seeds_.size())];
    const std::size_t mutations = 1 + pick(8);
    for (std::size_t i = 0; i < mutations; ++i)
      mutate(s);
    return s;
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : rng_() % n; }

  std::string random_bytes(std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s)
      c = static_cast<char>(rng_());
    return s;
  }

  void mutate(std::string& s) {
    const std::size_t at = pick(s.size() + 1);
    switch (pick(6)) {
      case 0:  // flip a byte
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng_());
        break;
      case 1:  // insert a token
        s.insert(at, kTokens[pick(std::size(kTokens))]);
        break;
      case 2:  // delete a range
        s.erase(at, pick(8));
        break;
      case 3:  // duplicate a range
        s.insert(at, s.substr(at, pick(16)));
        break;
      case 4:  // splice in part of another seed
        s.insert(at, seeds_[pick(seeds_.size())].substr(0, pick(32)));
        break;
      default:  // truncate
        s.resize(at);
        break;
    }
  }

  const std::vector<std::string>& seeds_;
  std::mt19937 rng_{0x46545021};  // fixed: the same inputs on every run
};

std::string escaped(const std::string& s) {
  std::string out;
  char buf[8];
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// The input being run, reported when the process dies on it: from a FUZZ_CHECK's abort() via
// SIGABRT, or from a sanitizer report via its death callback. A dying test harness may call
// fprintf from a signal handler; production code must not.
const std::string* g_current = nullptr;
long g_index = -1;

void report_current() {
  if (!g_current) return;
  std::fprintf(stderr, "\nfuzz replay: died on input #%ld (negative: seed files): \"%s\"\n",
               g_index, escaped(*g_current).c_str());
}

void on_abort(int sig) {
  report_current();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run(const std::string& input, long index) {
  g_current = &input;
  g_index = index;
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

}  // namespace

// Provided by the sanitizer runtimes when present; null otherwise.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [GENERATED_INPUTS]\n", argv[0]);
    return 2;
  }
  const long generated = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 20000;
  const auto seeds = load_seeds(argv[1]);
  if (seeds.empty()) {
    std::fprintf(stderr, "no seed files in %s\n", argv[1]);
    return 2;
  }
  std::signal(SIGABRT, on_abort);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(report_current);

  for (std::size_t i = 0; i < seeds.size(); ++i)
    run(seeds[i], -1 - static_cast<long>(i));
  Generator gen(seeds);
  for (long i = 0; i < generated; ++i)
    run(gen.next(), i);
  std::printf("replayed %zu seeds and %ld generated inputs\n", seeds.size(), generated);
  return 0;
}
