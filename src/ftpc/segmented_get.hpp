// The segmented get (`muxftp get --segments K URL`): one file fetched over K sessions at once,
// each a REST range of it written in place with pwrite. The file is made its full size first,
// then every segment is a Job with a `range` that TransferRunner runs like any other (retries
// resume inside the segment), and at the end the size on disk is checked against the server's.
//
// cut_into_segments() is the pure part (how a size is cut); prepare_segmented_get() asks the
// server for the size and makes the local file. The caller runs the jobs (with its board).
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ftpc/endpoint.hpp"
#include "ftpc/transfer.hpp"

namespace muxio::ftpc {

// Segments smaller than this are not worth a session of their own.
inline constexpr std::uint64_t kMinSegmentBytes = 64 << 10;

// [from, to) ranges that cover [0, size) in order: `wanted` of them (at least one), fewer when
// the file is too small for that many segments of kMinSegmentBytes; the last takes the rest.
std::vector<std::pair<std::uint64_t, std::uint64_t>> cut_into_segments(std::uint64_t size,
                                                                       std::size_t wanted);

// One get Job per segment of `remote` into `local`, labelled "name #1", "name #2", ...
std::vector<Job> segment_jobs(const std::string& remote, const std::string& local,
                              std::uint64_t size, std::size_t wanted);

struct SegmentedGet {
  std::string local;  // out_dir/name, already `size` bytes long
  std::uint64_t size = 0;
  std::vector<Job> jobs;
  // Not empty: nothing to run, and why ("ftp://host/f: SIZE: 550 ...", "./f: Permission denied").
  std::string error;
};

// Asks the server for the size of `remote` (SIZE, on a session of its own), makes the local file
// in out_dir that size, and cuts it into jobs. `source` names the remote file in messages (the
// URL without its password).
Task<SegmentedGet> prepare_segmented_get(EventLoop& loop, Endpoint endpoint, std::string remote,
                                         std::string source, std::string out_dir,
                                         std::size_t wanted);

// After every job is done: the local file has the server's size (else an error to report).
std::error_code check_reassembled(const SegmentedGet& get);

}  // namespace muxio::ftpc
