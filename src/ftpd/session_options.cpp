// The session's parameters and what the server says about itself: TYPE, MODE, STRU, ALLO and
// REST set how the next transfer runs; NOOP, SYST, FEAT, OPTS, HELP and STAT (without an
// argument) describe the server and the session.
#include <charconv>

#include "ftpd/session.hpp"

namespace muxio::ftpd {

Task<void> Session::cmd_noop(const std::string&) {
  co_await reply(200, "NOOP ok.");
}

Task<void> Session::cmd_syst(const std::string&) {
  co_await reply(215, "UNIX Type: L8");
}

std::vector<std::string> Session::feature_lines() const {
  std::vector<std::string> lines;
  if (server_.tls) lines.emplace_back(" AUTH TLS");
  lines.emplace_back(" EPRT");
  lines.emplace_back(" EPSV");
  lines.emplace_back(" HASH " + hash_feature_list(hash_algorithm_));
  lines.emplace_back(" MDTM");
  lines.emplace_back(" MFMT");
  lines.emplace_back(" MLST " + ftp::mlst_fact_names(mlst_facts_, true));
  lines.emplace_back(" PASV");
  if (server_.tls) {
    lines.emplace_back(" PBSZ");
    lines.emplace_back(" PROT");
  }
  lines.emplace_back(" REST STREAM");
  lines.emplace_back(" SIZE");
  lines.emplace_back(" TVFS");
  lines.emplace_back(" UTF8");
  return lines;
}

Task<void> Session::cmd_feat(const std::string&) {
  const std::vector<std::string> features = feature_lines();
  co_await reply_lines(211, "Features:", features, "End");
}

Task<void> Session::cmd_opts(const std::string& arg) {
  std::string a = ftp::ascii_upper(arg);
  if (a == "UTF8 ON" || a == "UTF8" || a == "UTF-8 ON") {
    co_await reply(200, "Always in UTF8 mode.");
  } else if (a.rfind("MLST", 0) == 0 && (a.size() == 4 || a[4] == ' ')) {
    // RFC 3659 §7.9: the facts named (unknown ones ignored) are the ones MLST and MLSD show.
    mlst_facts_ = ftp::parse_mlst_facts(a.size() > 5 ? std::string_view(arg).substr(5) : "");
    co_await reply(200, "MLST OPTS " + ftp::mlst_fact_names(mlst_facts_));
  } else if (a.rfind("HASH", 0) == 0 && (a.size() == 4 || a[4] == ' ')) {
    const std::string_view name = a.size() > 5 ? std::string_view(arg).substr(5) : "";
    co_await opts_hash(name);
  } else {
    co_await reply(501, "Option not understood.");
  }
}

Task<void> Session::cmd_help(const std::string&) {
  static const std::vector<std::string> kHelp = {
      " ABOR ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HASH HELP LIST MDTM MFMT",
      " MKD  MLSD MLST MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REST RETR",
      " RMD  RNFR RNTO SIZE STAT STOR STOU STRU SYST TYPE USER XCRC XCUP XCWD",
      " XMD5 XMKD XPWD XRMD XSHA1 XSHA256"};
  co_await reply_lines(214, "The following commands are recognized.", kHelp, "Help OK.");
}

Task<void> Session::cmd_stat(const std::string& arg) {
  if (!arg.empty()) {
    if (!logged_in_) {
      co_await reply(530, "Please login with USER and PASS.");
      co_return;
    }
    co_await stat_path(arg);
    co_return;
  }
  std::vector<std::string> body;
  body.push_back(" Connected to " + peer_.ip());
  body.push_back(" Logged in as " + (logged_in_ ? user_name_ : std::string("nobody")));
  body.push_back(std::string(" TYPE: ") + (binary_ ? "BINARY" : "ASCII") +
                 ", STRUcture: File, MODE: Stream");
  if (transfer_running()) {
    body.push_back(" Transfer in progress: " + transfer_->what() + ", " +
                   std::to_string(transfer_->bytes()) + " bytes so far");
  } else {
    body.push_back(" No data connection");
  }
  co_await reply_lines(211, "muxftpd status:", body, "End of status");
}

Task<void> Session::cmd_type(const std::string& arg) {
  std::string a = ftp::ascii_upper(arg);
  if (a == "I" || a == "L 8" || a == "L8") {
    binary_ = true;
    co_await reply(200, "Switching to Binary mode.");
  } else if (a == "A" || a == "A N") {
    binary_ = false;
    co_await reply(200, "Switching to ASCII mode.");
  } else if (a.empty()) {
    co_await reply(501, "TYPE needs an argument.");
  } else {
    co_await reply(504, "Type not supported.");
  }
}

Task<void> Session::cmd_mode(const std::string& arg) {
  if (ftp::ascii_upper(arg) == "S") {
    co_await reply(200, "Mode set to S.");
  } else {
    co_await reply(504, "Only stream mode is supported.");
  }
}

Task<void> Session::cmd_stru(const std::string& arg) {
  if (ftp::ascii_upper(arg) == "F") {
    co_await reply(200, "Structure set to F.");
  } else {
    co_await reply(504, "Only file structure is supported.");
  }
}

Task<void> Session::cmd_allo(const std::string&) {
  co_await reply(202, "ALLO not needed: storage is allocated on demand.");
}

Task<void> Session::cmd_rest(const std::string& arg) {
  std::uint64_t offset = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), offset);
  if (arg.empty() || ec != std::errc() || end != arg.data() + arg.size()) {
    co_await reply(501, "REST needs a byte offset.");
    co_return;
  }
  restart_offset_ = offset;
  co_await reply(350, "Restarting at " + std::to_string(offset) + ". Send STOR or RETR.");
}

}  // namespace muxio::ftpd
