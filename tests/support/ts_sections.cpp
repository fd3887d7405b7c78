#include "support/ts_sections.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace avmon::test {

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> section_packets(const std::vector<std::uint8_t>& section, int pid, int& cc) {
  std::vector<std::uint8_t> out;
  std::size_t pos = 0;
  bool first = true;
  while (pos < section.size()) {
    std::uint8_t p[188];
    std::fill(p, p + 188, 0xFF);
    p[0] = 0x47;
    p[1] = static_cast<std::uint8_t>((first ? 0x40 : 0) | ((pid >> 8) & 0x1F));
    p[2] = static_cast<std::uint8_t>(pid & 0xFF);
    p[3] = static_cast<std::uint8_t>(0x10 | (cc++ & 0x0F));
    std::size_t i = 4;
    if (first) p[i++] = 0;  // pointer_field
    const std::size_t n = std::min<std::size_t>(188 - i, section.size() - pos);
    std::copy(section.begin() + static_cast<long>(pos), section.begin() + static_cast<long>(pos + n), p + i);
    pos += n;
    first = false;
    out.insert(out.end(), p, p + 188);
  }
  return out;
}

std::vector<std::uint8_t> insert_sections(const std::vector<std::uint8_t>& ts,
                                          std::vector<std::pair<std::size_t, std::vector<std::uint8_t>>> sections,
                                          int pid) {
  std::stable_sort(sections.begin(), sections.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  int cc = 0;
  std::vector<std::uint8_t> out;
  std::size_t from = 0;
  for (const auto& [at, section] : sections) {
    out.insert(out.end(), ts.begin() + static_cast<long>(from * 188), ts.begin() + static_cast<long>(at * 188));
    const auto packets = section_packets(section, pid, cc);
    out.insert(out.end(), packets.begin(), packets.end());
    from = at;
  }
  out.insert(out.end(), ts.begin() + static_cast<long>(from * 188), ts.end());
  return out;
}

std::vector<std::vector<std::uint8_t>> sections_of_pid(const std::vector<std::uint8_t>& ts, int pid) {
  std::vector<std::vector<std::uint8_t>> out;
  std::vector<std::uint8_t> buf;
  bool synced = false;
  auto extract = [&] {
    while (buf.size() >= 3 && buf[0] != 0xFF) {
      std::size_t len = 3 + ((static_cast<std::size_t>(buf[1] & 0x0F) << 8) | buf[2]);
      if (buf.size() < len) return;
      out.emplace_back(buf.begin(), buf.begin() + static_cast<long>(len));
      buf.erase(buf.begin(), buf.begin() + static_cast<long>(len));
    }
    if (!buf.empty() && buf[0] == 0xFF) buf.clear();  // stuffing to the end of the packet
  };
  for (std::size_t off = 0; off + 188 <= ts.size(); off += 188) {
    const std::uint8_t* p = &ts[off];
    if (p[0] != 0x47 || (((p[1] & 0x1F) << 8) | p[2]) != pid) continue;
    bool pusi = p[1] & 0x40;
    unsigned afc = (p[3] >> 4) & 3;
    std::size_t i = 4;
    if (afc & 2) i += 1 + p[4];
    if (!(afc & 1) || i >= 188) continue;
    if (pusi) {
      std::size_t ptr = p[i++];
      if (synced && i + ptr <= 188) {
        buf.insert(buf.end(), p + i, p + i + ptr);
        extract();
      }
      buf.clear();
      i += ptr;
      synced = true;
    }
    if (!synced || i >= 188) continue;
    buf.insert(buf.end(), p + i, p + 188);
    extract();
  }
  return out;
}

std::vector<Pes> pes_of_pid(const std::vector<std::uint8_t>& ts, int pid) {
  std::vector<Pes> out;
  std::vector<std::uint8_t> buf;
  std::size_t first = 0;
  auto finish = [&] {
    if (buf.size() < 9 || buf[0] != 0 || buf[1] != 0 || buf[2] != 1) return;
    Pes p;
    p.first_packet = first;
    const std::size_t header = 9 + buf[8];
    if ((buf[7] & 0x80) && buf.size() >= 14)
      p.pts = (static_cast<std::int64_t>(buf[9] & 0x0E) << 29) | (buf[10] << 22) | ((buf[11] & 0xFE) << 14) |
              (buf[12] << 7) | (buf[13] >> 1);
    std::size_t end = buf.size();
    const std::size_t declared = (static_cast<std::size_t>(buf[4]) << 8) | buf[5];
    if (declared && 6 + declared < end) end = 6 + declared;
    if (header <= end) p.payload.assign(buf.begin() + static_cast<long>(header), buf.begin() + static_cast<long>(end));
    out.push_back(std::move(p));
  };
  for (std::size_t off = 0; off + 188 <= ts.size(); off += 188) {
    const std::uint8_t* p = &ts[off];
    if (p[0] != 0x47 || (((p[1] & 0x1F) << 8) | p[2]) != pid) continue;
    unsigned afc = (p[3] >> 4) & 3;
    std::size_t i = 4;
    if (afc & 2) i += 1 + p[4];
    if (!(afc & 1) || i >= 188) continue;
    if (p[1] & 0x40) {
      finish();
      buf.clear();
      first = off / 188;
    }
    buf.insert(buf.end(), p + i, p + 188);
  }
  finish();
  return out;
}

namespace {
double srt_time(const std::string& t) {  // HH:MM:SS,mmm
  return std::stoi(t.substr(0, 2)) * 3600 + std::stoi(t.substr(3, 2)) * 60 + std::stoi(t.substr(6, 2)) +
         std::stoi(t.substr(9, 3)) / 1000.0;
}
}  // namespace

std::vector<SrtCue> read_srt(const std::string& path) {
  std::ifstream in(path);
  std::vector<SrtCue> cues;
  std::string line;
  auto next = [&] {
    if (!std::getline(in, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  while (next()) {
    if (line.find(" --> ") == std::string::npos) continue;
    SrtCue c;
    c.start_s = srt_time(line.substr(0, 12));
    c.end_s = srt_time(line.substr(17, 12));
    while (next() && !line.empty()) c.lines.push_back(line);
    cues.push_back(c);
  }
  return cues;
}

}  // namespace avmon::test
