#pragma once
// A restricted reader of Python pickles: enough of protocols 2-5 for the state dicts torch.save
// writes (and its legacy header), and nothing that runs code. Objects are data: a GLOBAL becomes an
// inert name, accepted only when the caller's whitelist names it (any other global is refused with an
// error naming it); a REDUCE of `collections.OrderedDict` with no arguments makes a dict, any other
// REDUCE is recorded as a call (callee and arguments) for the caller to interpret; BINPERSID records
// the persistent id. Every read is bounds-checked; a truncated or corrupt stream throws gantry::Error
// naming the source and the byte offset.
//
// Objects live in one arena and refer to each other by index, so shared and even cyclic references
// (which a hostile stream can build) cost no recursion and leak nothing.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::io::pickle {

enum class Kind : uint8_t {
  none,
  boolean,
  integer,      // fits int64
  big_integer,  // LONG1/LONG4 of more than 8 bytes: `text` holds the little-endian two's complement bytes
  floating,
  string,  // unicode (UTF-8 bytes, not validated) or a Python 2 str
  bytes,
  tuple,
  list,
  dict,
  global,         // `text` is "module.name"
  call,           // REDUCE: items = {callee, args}
  persistent_id,  // BINPERSID: items = {the id object}
};

const char* kind_name(Kind kind);

constexpr size_t kNoObject = static_cast<size_t>(-1);

struct Object {
  Kind kind = Kind::none;
  int64_t integer = 0;  // boolean (0/1) and integer
  double floating = 0;
  std::string text;
  // tuple and list: the elements; dict: key, value, key, value, ...; call: callee, args;
  // persistent_id: the id.
  std::vector<size_t> items;
  size_t state = kNoObject;  // BUILD's argument (dicts and calls)
  uint64_t offset = 0;       // byte offset (in the source) of the opcode that made it
};

struct Pickle {
  std::vector<Object> objects;
  size_t root = kNoObject;
  uint64_t begin = 0;  // byte offset of the first opcode
  uint64_t end = 0;    // byte offset just past STOP

  const Object& at(size_t index) const { return objects.at(index); }
  const Object& root_object() const { return objects.at(root); }
};

// Reads one pickle starting at `offset` of `bytes` (several may follow each other). `source` names
// the file in errors; `allowed_globals` lists the "module.name" globals the stream may name.
Pickle read_pickle(std::string_view bytes, uint64_t offset, const std::string& source,
                   const std::set<std::string, std::less<>>& allowed_globals);

// For dict objects: the value under string key `key`, or kNoObject.
size_t dict_find(const Pickle& pickle, const Object& dict, std::string_view key);

}  // namespace gantry::io::pickle
