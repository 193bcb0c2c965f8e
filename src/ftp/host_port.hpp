// Data-connection address codecs: PORT/PASV (RFC 959, IPv4 only) and EPRT/EPSV (RFC 2428).
// Parsing is strict: these arguments come from the network and end up in connect(2), so anything
// that is not exactly the grammar is refused. Whether an address is *allowed* (same host as the
// control connection, port >= 1024: the FTP bounce attack) is the server's policy, not checked
// here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "muxio/result.hpp"
#include "muxio/socket_address.hpp"

namespace muxio::ftp {

// "h1,h2,h3,h4,p1,p2": exactly six decimal numbers of 1..3 digits, each 0..255, no spaces, signs
// or other characters. Port 0 (p1 = p2 = 0) cannot be connected to and is refused.
// Errors: muxio::Error::bad_address.
muxio::Result<muxio::SocketAddress> parse_port_arg(std::string_view arg);

// "|1|132.235.1.2|6275|", "|2|::1|6275|": the first character is the delimiter (any of ASCII
// 33..126 per RFC 2428), the family (1 = IPv4, 2 = IPv6) must match the numeric address, the
// port is 1..65535 in decimal, and nothing follows the closing delimiter.
// Errors: muxio::Error::bad_address.
muxio::Result<muxio::SocketAddress> parse_eprt_arg(std::string_view arg);

// True when `addr` can be written in PORT/PASV form: IPv4, or IPv4-mapped IPv6 (::ffff:a.b.c.d,
// what a dual-stack listener sees for an IPv4 client).
bool has_ipv4_form(const muxio::SocketAddress& addr);

// "127,0,0,1,19,137" (the inverse of parse_port_arg; also what a client sends with PORT).
// Empty when !has_ipv4_form(addr).
std::string format_port_arg(const muxio::SocketAddress& addr);

// "|1|127.0.0.1|5000|" or "|2|::1|5000|" (the inverse of parse_eprt_arg). A v4-mapped address is
// written as IPv6, as it is.
std::string format_eprt_arg(const muxio::SocketAddress& addr);

// "Entering Passive Mode (127,0,0,1,19,137)". IPv4 (or v4-mapped) only: for a pure IPv6 address
// the result is empty and the server should answer 522/use EPSV instead.
std::string format_pasv_reply_text(const muxio::SocketAddress& addr);

// "Entering Extended Passive Mode (|||5000|)".
std::string format_epsv_reply_text(std::uint16_t port);

}  // namespace muxio::ftp
