#include "ftp/ascii_codec.hpp"

namespace muxio::ftp {

// Both converters copy runs between line ends in one append: transfers are megabytes, and a
// per-byte push_back would dominate the cost of an ASCII transfer.

void ToNetworkAscii::convert(std::string_view in, std::string& out) {
  if (in.empty()) return;
  out.reserve(out.size() + in.size() + in.size() / 32);
  bool prev_cr = last_was_cr_;
  last_was_cr_ = in.back() == '\r';
  while (!in.empty()) {
    const auto lf = in.find('\n');
    if (lf == std::string_view::npos) {
      out.append(in);
      break;
    }
    const bool cr_before = lf > 0 ? in[lf - 1] == '\r' : prev_cr;
    out.append(in.substr(0, lf));
    out += cr_before ? "\n" : "\r\n";
    in.remove_prefix(lf + 1);
    prev_cr = false;  // the byte before the next LF is now inside `in` or is this LF
  }
}

void FromNetworkAscii::convert(std::string_view in, std::string& out) {
  if (in.empty()) return;
  out.reserve(out.size() + in.size() + 1);
  if (held_cr_) {
    held_cr_ = false;
    if (in.front() == '\n') {
      out.push_back('\n');
      in.remove_prefix(1);
    } else {
      out.push_back('\r');  // a lone CR; the current byte is handled below
    }
  }
  while (!in.empty()) {
    const auto cr = in.find('\r');
    if (cr == std::string_view::npos) {
      out.append(in);
      return;
    }
    out.append(in.substr(0, cr));
    if (cr + 1 == in.size()) {
      held_cr_ = true;  // is it a CRLF? the next chunk will tell
      return;
    }
    if (in[cr + 1] == '\n') {
      out.push_back('\n');
      in.remove_prefix(cr + 2);
    } else {
      out.push_back('\r');
      in.remove_prefix(cr + 1);
    }
  }
}

void FromNetworkAscii::finish(std::string& out) {
  if (held_cr_) out.push_back('\r');
  held_cr_ = false;
}

}  // namespace muxio::ftp
