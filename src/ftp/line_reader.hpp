// LineReader: splits the bytes of an FTP control connection into command lines.
//
// Owned by one session and used from its loop's thread only. The session feeds each chunk it
// reads, then calls next() until it returns need_more, and only then reads again; so the buffer
// holds at most one read chunk plus one partial line of at most max_line + 1 bytes, whatever a
// client sends (an endless line without LF is cut off, not buffered).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace muxio::ftp {

class LineReader {
 public:
  explicit LineReader(std::size_t max_line = 4096);

  // Appends received bytes. Lines end with CRLF or a bare LF (both accepted); the terminator is
  // not part of the line.
  void feed(std::string_view bytes);

  enum class Status { line, need_more, too_long };

  // Next complete line into *line. too_long is returned once per over-long line (at the latest
  // when max_line + 2 of its bytes have arrived, even if its LF has not), after which the rest of
  // that line up to its LF is discarded; memory stays bounded by max_line whatever the input.
  Status next(std::string* line);

  // Bytes held: complete lines not yet taken plus the current partial line.
  std::size_t buffered() const;

 private:
  void append_to_partial(std::string_view piece);

  std::size_t max_line_;
  std::string buf_;              // [pos_, end): unread bytes; complete lines end with '\n'
  std::size_t pos_ = 0;          // start of the first unread line in buf_
  std::size_t partial_len_ = 0;  // bytes after the last '\n' in buf_ (the line still arriving)
  bool discarding_ = false;      // inside an over-long line: drop bytes up to its LF
};

}  // namespace muxio::ftp
