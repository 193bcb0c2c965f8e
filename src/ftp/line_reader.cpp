#include "ftp/line_reader.hpp"

#include <algorithm>

namespace muxio::ftp {

namespace {

// A line is cut off once its partial content reaches this many bytes: max_line of text plus a CR
// that may still turn out to be the terminator, plus one byte that proves the line too long.
std::size_t cutoff(std::size_t max_line) {
  return max_line + 2;
}

}  // namespace

LineReader::LineReader(std::size_t max_line) : max_line_(max_line) {}

void LineReader::feed(std::string_view bytes) {
  // Reclaim the lines already taken so the buffer does not grow across feeds.
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  while (!bytes.empty()) {
    const auto lf = bytes.find('\n');
    const auto piece = lf == std::string_view::npos ? bytes : bytes.substr(0, lf + 1);
    bytes.remove_prefix(piece.size());
    if (discarding_) {
      // The tail of a line already reported too_long: dropped, never stored.
      if (lf != std::string_view::npos) discarding_ = false;
      continue;
    }
    append_to_partial(piece);
  }
}

void LineReader::append_to_partial(std::string_view piece) {
  const bool complete = !piece.empty() && piece.back() == '\n';
  const std::size_t room = cutoff(max_line_) - partial_len_;
  const std::size_t content = piece.size() - (complete ? 1 : 0);
  if (content < room) {
    buf_.append(piece);
    partial_len_ = complete ? 0 : partial_len_ + piece.size();
    return;
  }
  // The line cannot fit. Keep exactly cutoff() bytes and end them with a synthetic LF: next()
  // then sees a line longer than max_line and reports it once, while the rest of the real line
  // is dropped (the piece's own LF, if present, ends the over-long line right here).
  buf_.append(piece.substr(0, room));
  buf_.push_back('\n');
  partial_len_ = 0;
  discarding_ = !complete;
}

LineReader::Status LineReader::next(std::string* line) {
  const auto lf = buf_.find('\n', pos_);
  if (lf == std::string::npos) return Status::need_more;
  std::string_view text(buf_.data() + pos_, lf - pos_);
  pos_ = lf + 1;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.size() > max_line_) return Status::too_long;
  line->assign(text);
  return Status::line;
}

std::size_t LineReader::buffered() const {
  return buf_.size() - pos_;
}

}  // namespace muxio::ftp
