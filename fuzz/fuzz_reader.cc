// PacketReader (pcapio/reader.h) over any bytes: it must end with a packet
// stream, a clean end or one error naming a byte offset, never a crash, and
// every packet must be exactly the file's own bytes at the place it names,
// its time and length within what pcap and pcapng output can hold.
#include <cstring>

#include "fuzz/fuzz_util.h"
#include "pcapio/reader.h"
#include "rules/label.h"

using namespace pcapml;

namespace {

// Where a packet's data starts, from the start of its record or block.
uint64_t DataOffset(const PacketReader& r, const Packet& p) {
  if (r.format() == FileFormat::kPcap) return 16;
  return p.has_timestamp ? 28 : 12;  // EPB and PB: 20 bytes of fields; SPB: 4
}

void CheckPacket(const PacketReader& r, const Packet& p, const uint8_t* file, size_t size) {
  FUZZ_CHECK(p.interface < r.interfaces().size());
  uint64_t at = p.offset + DataOffset(r, p);
  FUZZ_CHECK(at <= size && p.caplen <= size - at);
  FUZZ_CHECK(memcmp(p.data, file + at, p.caplen) == 0);
  // What the writers can hold: no time wraps, no packet tcpdump would refuse.
  const Interface& ifc = r.interfaces()[p.interface];
  FUZZ_CHECK(p.ts_ns >= 0 && p.ts_ns <= PacketReader::kMaxTimestampNs);
  FUZZ_CHECK(p.caplen <= PacketReader::kMaxCaplen && (ifc.snaplen == 0 || p.caplen <= ifc.snaplen));
  fuzz::Touch(p.comment);
  for (std::string_view c : p.Comments()) {
    fuzz::Touch(c);
    SampleLabel label;
    if (ParseLabel(c, &label)) fuzz::Touch(label.name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  PacketReader reader;
  std::string err;
  // In memory, its buffer exactly the input: ASan sees any read past the end.
  if (!reader.OpenMemory("fuzz.pcapng", data, size, &err)) {
    FUZZ_CHECK(!err.empty());
    return 0;
  }
  Packet p;
  PacketReader::Status st;
  while ((st = reader.Next(&p, &err)) == PacketReader::Status::kPacket) CheckPacket(reader, p, data, size);
  FUZZ_CHECK(st == PacketReader::Status::kEnd ? err.empty() : err.find("offset") != std::string::npos);
  FUZZ_CHECK(reader.position() <= size);
  return 0;
}
