// Test support: PSI sections of one PID from a transport-stream file, the
// simplest way (pointer_field, sections across packets, several sections in
// one packet, stuffing). Not the monitor's section filter: a reference to
// read TSDuck's test captures with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace avmon::test {

std::vector<std::uint8_t> read_file_bytes(const std::string& path);

// Complete sections carried on `pid`, in order.
std::vector<std::vector<std::uint8_t>> sections_of_pid(const std::vector<std::uint8_t>& ts, int pid);

}  // namespace avmon::test
