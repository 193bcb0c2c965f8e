// The client's side of the control connection: assembling (multi-line) replies from lines, and
// decoding the replies whose text carries data — 227 (PASV), 229 (EPSV), 257 (PWD/MKD), 211 (FEAT),
// 213 (SIZE, MDTM). Pure functions; the text comes from the network, so every parser is strict
// about what it returns and never trusts lengths or numbers it did not check.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "muxio/result.hpp"
#include "muxio/socket_address.hpp"

namespace muxio::ftp {

// One reply: its code and its lines as received (terminators removed).
struct Reply {
  int code = 0;
  std::vector<std::string> lines;

  int kind() const { return code / 100; }  // 1 preliminary, 2 done, 3 more, 4 transient, 5 failed
  // The text without the codes: "ddd text" -> "text"; a multi-line reply's lines joined with '\n'.
  std::string text() const;
};

// Collects lines into replies (RFC 959 §4.2): "ddd text" is a reply of one line; "ddd-text" opens
// a multi-line reply that ends at the first line starting with the same code and a space (or the
// bare code). Lines inside may be anything.
class ReplyAssembler {
 public:
  enum class Status { complete, need_more, malformed };
  // complete: *out holds the reply and the assembler is empty again. malformed: the line cannot
  // start a reply (no three-digit code 100..599); the assembler stays empty.
  Status add_line(std::string_view line, Reply* out);
  bool in_reply() const { return open_; }

 private:
  bool open_ = false;
  Reply current_;
  // A multi-line reply longer than this is cut (its end is still awaited); memory stays bounded.
  static constexpr std::size_t kMaxLines = 100000;
};

// 227 text: "Entering Passive Mode (h1,h2,h3,h4,p1,p2)" — parentheses optional; the six numbers are
// the first run of digits and commas. Errors: Error::bad_address.
muxio::Result<muxio::SocketAddress> parse_pasv_reply(std::string_view text);

// 229 text: "Entering Extended Passive Mode (|||port|)" — any delimiter 33..126, the first three
// fields empty. Port 1..65535.
std::optional<std::uint16_t> parse_epsv_reply(std::string_view text);

// 257 text: "\"/dir\" is the current directory" — a quoted path with "" meaning one quote.
std::optional<std::string> parse_quoted_path(std::string_view text);

// FEAT body lines -> feature name (upper-cased) -> its parameters ("MLST" -> "type*;size*;...").
// The first and last lines of the reply (the 211 lines) are not features.
std::map<std::string, std::string> parse_feat(const Reply& reply);

// 213 text of SIZE: a decimal size.
std::optional<std::uint64_t> parse_size_reply(std::string_view text);

// 213 text of HASH (draft-bryan-ftpext-hash-02): "SHA-256 0-1234 <hex digest> <path>"; the
// path (which may hold spaces) is not kept. The digest comes back in lowercase.
struct HashReply {
  std::string algorithm;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::string digest;
};
std::optional<HashReply> parse_hash_reply(std::string_view text);

// Quotes an argument for a command line: refuses CR, LF and NUL (they would end the command early
// and inject another one). Returns nullopt when refused.
std::optional<std::string> command_line(std::string_view verb, std::string_view arg);

}  // namespace muxio::ftp
