// TYPE A (RFC 959 §3.1.1.1): text travels as NVT-ASCII with CRLF line ends. These converters
// stream: a transfer hands them buffers split anywhere, even between a CR and its LF, and the
// output is the same as converting the whole file at once. Each object serves one transfer.
// convert() and finish() append to `out`.
#pragma once

#include <string>
#include <string_view>

namespace muxio::ftp {

// Sending (RETR in ASCII mode): LF -> CRLF. An existing CRLF is not doubled (a CR at the end of
// the previous chunk counts); a lone CR passes as is.
class ToNetworkAscii {
 public:
  void convert(std::string_view in, std::string& out);

 private:
  bool last_was_cr_ = false;
};

// Receiving (STOR in ASCII mode): CRLF -> LF; a lone CR is kept. A CR at the end of a chunk is
// held until the next byte shows whether an LF follows; finish() flushes a held CR at the end
// of the transfer.
class FromNetworkAscii {
 public:
  void convert(std::string_view in, std::string& out);
  void finish(std::string& out);

 private:
  bool held_cr_ = false;
};

}  // namespace muxio::ftp
