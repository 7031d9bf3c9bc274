#include "engine/io/pickle.h"

#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "engine/core/error.h"

namespace gantry::io::pickle {

namespace {

constexpr int kHighestProtocol = 5;

// The opcodes read; named after the constants of CPython's pickle module.
enum Op : uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  BINFLOAT = 'G',
  BININT = 'J',
  BININT1 = 'K',
  BININT2 = 'M',
  NONE = 'N',
  BINPERSID = 'Q',
  REDUCE = 'R',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  BINUNICODE = 'X',
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  APPENDS = 'e',
  BINGET = 'h',
  LONG_BINGET = 'j',
  EMPTY_LIST = ']',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  EMPTY_DICT = '}',
  PROTO = 0x80,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
};

class Reader {
 public:
  Reader(std::string_view bytes, uint64_t offset, const std::string& source,
         const std::set<std::string, std::less<>>& allowed)
      : bytes_(bytes), at_(offset), source_(source), allowed_(allowed) {
    result_.begin = offset;
  }

  Pickle run() {
    if (at_ > bytes_.size()) fail_truncated("the start of a pickle");
    while (true) {
      op_offset_ = at_;
      const uint8_t op = u8("an opcode");
      if (op == STOP) {
        result_.root = pop("STOP");
        result_.end = at_;
        return std::move(result_);
      }
      step(op);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    GANTRY_FAIL("pickle: '", source_, "': at byte offset ", op_offset_, ": ", what);
  }
  [[noreturn]] void fail_truncated(const char* inside) const {
    GANTRY_FAIL("pickle: '", source_, "': the stream ends at byte offset ", bytes_.size(), " inside ", inside,
                " (opcode at byte offset ", op_offset_, "): the file is truncated");
  }

  std::string_view take(uint64_t n, const char* what) {
    if (n > bytes_.size() - at_) fail_truncated(what);
    const std::string_view s = bytes_.substr(at_, n);
    at_ += n;
    return s;
  }
  uint64_t le(int width, const char* what) {
    const std::string_view s = take(static_cast<uint64_t>(width), what);
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[static_cast<size_t>(i)]);
    return v;
  }
  uint8_t u8(const char* what) { return static_cast<uint8_t>(le(1, what)); }

  size_t make(Kind kind) {
    Object o;
    o.kind = kind;
    o.offset = op_offset_;
    result_.objects.push_back(std::move(o));
    return result_.objects.size() - 1;
  }
  Object& obj(size_t index) { return result_.objects[index]; }
  void push(size_t index) { stack_.push_back(index); }
  size_t pop(const char* op) {
    if (stack_.size() <= floor()) fail(std::string(op) + " on an empty stack");
    const size_t v = stack_.back();
    stack_.pop_back();
    return v;
  }
  size_t top(const char* op) {
    if (stack_.size() <= floor()) fail(std::string(op) + " on an empty stack");
    return stack_.back();
  }
  // The stack below the innermost MARK belongs to outer objects.
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<size_t> pop_to_mark(const char* op) {
    if (marks_.empty()) fail(std::string(op) + " without a MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<size_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  Object& expect(size_t index, Kind kind, const char* op) {
    if (obj(index).kind != kind)
      fail(std::string(op) + " needs a " + kind_name(kind) + " but found a " + kind_name(obj(index).kind));
    return obj(index);
  }

  void push_integer(int64_t v) {
    const size_t o = make(Kind::integer);
    obj(o).integer = v;
    push(o);
  }
  void push_text(Kind kind, uint64_t length, const char* what) {
    const std::string_view s = take(length, what);
    const size_t o = make(kind);
    obj(o).text.assign(s);
    push(o);
  }
  void push_long(uint64_t length) {
    const std::string_view s = take(length, "a LONG");
    if (length <= 8) {
      uint64_t v = 0;
      for (size_t i = length; i-- > 0;) v = (v << 8) | static_cast<uint8_t>(s[i]);
      if (length > 0 && length < 8 && (static_cast<uint8_t>(s[length - 1]) & 0x80)) v |= ~uint64_t{0} << (8 * length);
      push_integer(static_cast<int64_t>(v));
    } else {
      const size_t o = make(Kind::big_integer);
      obj(o).text.assign(s);
      push(o);
    }
  }
  void push_tuple(std::vector<size_t> items) {
    const size_t o = make(Kind::tuple);
    obj(o).items = std::move(items);
    push(o);
  }
  void push_global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (!allowed_.contains(full)) {
      std::string list;
      for (const std::string& g : allowed_) list += (list.empty() ? "" : ", ") + g;
      fail("global '" + full + "' is not allowed: only these are reconstructed, nothing is ever executed: " + list);
    }
    const size_t o = make(Kind::global);
    obj(o).text = full;
    push(o);
  }
  std::string line(const char* what) {
    const size_t end = bytes_.find('\n', at_);
    if (end == std::string_view::npos) fail_truncated(what);
    std::string s(bytes_.substr(at_, end - at_));
    at_ = end + 1;
    return s;
  }
  void memo_put(uint64_t index) { memo_[index] = top("a memo put"); }
  void memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
    push(it->second);
  }
  void set_items(size_t dict, const std::vector<size_t>& kv, const char* op) {
    if (kv.size() % 2 != 0) fail(std::string(op) + " with an odd number of keys and values");
    Object& d = expect(dict, Kind::dict, op);
    d.items.insert(d.items.end(), kv.begin(), kv.end());
  }
  void append(size_t list, const std::vector<size_t>& values, const char* op) {
    Object& l = expect(list, Kind::list, op);
    l.items.insert(l.items.end(), values.begin(), values.end());
  }

  void step(uint8_t op) {
    switch (op) {
      case PROTO: {
        const uint8_t protocol = u8("PROTO");
        if (protocol > kHighestProtocol) fail("pickle protocol " + std::to_string(protocol) + " is not supported");
        return;
      }
      case FRAME: take(8, "FRAME"); return;  // frames only group opcodes for buffering
      case MARK: marks_.push_back(stack_.size()); return;
      case POP: pop("POP"); return;
      case POP_MARK: pop_to_mark("POP_MARK"); return;
      case DUP: push(top("DUP")); return;
      case NONE: push(make(Kind::none)); return;
      case NEWTRUE:
      case NEWFALSE: {
        const size_t o = make(Kind::boolean);
        obj(o).integer = op == NEWTRUE;
        push(o);
        return;
      }
      case BININT: push_integer(static_cast<int32_t>(static_cast<uint32_t>(le(4, "BININT")))); return;
      case BININT1: push_integer(u8("BININT1")); return;
      case BININT2: push_integer(static_cast<int64_t>(le(2, "BININT2"))); return;
      case LONG1: push_long(u8("LONG1")); return;
      case LONG4: {
        const auto n = static_cast<int32_t>(static_cast<uint32_t>(le(4, "LONG4")));
        if (n < 0) fail("LONG4 with a negative length");
        push_long(static_cast<uint64_t>(n));
        return;
      }
      case BINFLOAT: {
        const std::string_view s = take(8, "BINFLOAT");
        uint64_t bits = 0;  // big-endian
        for (const char c : s) bits = (bits << 8) | static_cast<uint8_t>(c);
        const size_t o = make(Kind::floating);
        std::memcpy(&obj(o).floating, &bits, 8);
        push(o);
        return;
      }
      case BINUNICODE: push_text(Kind::string, le(4, "BINUNICODE"), "a BINUNICODE string"); return;
      case SHORT_BINUNICODE: push_text(Kind::string, u8("SHORT_BINUNICODE"), "a SHORT_BINUNICODE string"); return;
      case BINUNICODE8: push_text(Kind::string, le(8, "BINUNICODE8"), "a BINUNICODE8 string"); return;
      case BINSTRING: {
        const auto n = static_cast<int32_t>(static_cast<uint32_t>(le(4, "BINSTRING")));
        if (n < 0) fail("BINSTRING with a negative length");
        push_text(Kind::string, static_cast<uint64_t>(n), "a BINSTRING");
        return;
      }
      case SHORT_BINSTRING: push_text(Kind::string, u8("SHORT_BINSTRING"), "a SHORT_BINSTRING"); return;
      case BINBYTES: push_text(Kind::bytes, le(4, "BINBYTES"), "BINBYTES"); return;
      case SHORT_BINBYTES: push_text(Kind::bytes, u8("SHORT_BINBYTES"), "SHORT_BINBYTES"); return;
      case BINBYTES8: push_text(Kind::bytes, le(8, "BINBYTES8"), "BINBYTES8"); return;
      case EMPTY_TUPLE: push_tuple({}); return;
      case TUPLE: push_tuple(pop_to_mark("TUPLE")); return;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        std::vector<size_t> items(static_cast<size_t>(op - TUPLE1 + 1));
        for (size_t i = items.size(); i-- > 0;) items[i] = pop("TUPLEn");
        push_tuple(std::move(items));
        return;
      }
      case EMPTY_LIST: push(make(Kind::list)); return;
      case EMPTY_DICT: push(make(Kind::dict)); return;
      case APPEND: {
        const size_t value = pop("APPEND");
        append(top("APPEND"), {value}, "APPEND");
        return;
      }
      case APPENDS: {
        const std::vector<size_t> values = pop_to_mark("APPENDS");
        append(top("APPENDS"), values, "APPENDS");
        return;
      }
      case SETITEM: {
        const size_t value = pop("SETITEM"), key = pop("SETITEM");
        set_items(top("SETITEM"), {key, value}, "SETITEM");
        return;
      }
      case SETITEMS: {
        const std::vector<size_t> kv = pop_to_mark("SETITEMS");
        set_items(top("SETITEMS"), kv, "SETITEMS");
        return;
      }
      case BINPUT: memo_put(u8("BINPUT")); return;
      case LONG_BINPUT: memo_put(le(4, "LONG_BINPUT")); return;
      case MEMOIZE: memo_put(memo_.size()); return;
      case BINGET: memo_get(u8("BINGET")); return;
      case LONG_BINGET: memo_get(le(4, "LONG_BINGET")); return;
      case GLOBAL: {
        const std::string module = line("a GLOBAL's module name");
        const std::string name = line("a GLOBAL's name");
        push_global(module, name);
        return;
      }
      case STACK_GLOBAL: {
        const size_t name = pop("STACK_GLOBAL"), module = pop("STACK_GLOBAL");
        const std::string n = expect(name, Kind::string, "STACK_GLOBAL").text;
        push_global(expect(module, Kind::string, "STACK_GLOBAL").text, n);
        return;
      }
      case REDUCE: {
        const size_t args = pop("REDUCE"), callee = pop("REDUCE");
        expect(args, Kind::tuple, "REDUCE");
        const std::string& name = expect(callee, Kind::global, "REDUCE").text;
        if (name == "collections.OrderedDict") {
          if (!obj(args).items.empty()) fail("OrderedDict(...) with arguments is not supported");
          push(make(Kind::dict));
          return;
        }
        const size_t o = make(Kind::call);
        obj(o).items = {callee, args};
        push(o);
        return;
      }
      case BUILD: {
        const size_t state = pop("BUILD");
        const size_t target = top("BUILD");
        const Kind kind = obj(target).kind;
        if (kind != Kind::dict && kind != Kind::call)
          fail(std::string("BUILD on a ") + kind_name(kind) + " (only dicts and calls take a state)");
        obj(target).state = state;
        return;
      }
      case BINPERSID: {
        const size_t id = pop("BINPERSID");
        const size_t o = make(Kind::persistent_id);
        obj(o).items = {id};
        push(o);
        return;
      }
      default: break;
    }
    char printable[8] = "";
    if (op >= 0x20 && op < 0x7f) std::snprintf(printable, sizeof printable, " '%c'", op);
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    fail(std::string("unsupported pickle opcode ") + hex + printable +
         " (only the opcodes of torch.save's state dicts are read)");
  }

  std::string_view bytes_;
  uint64_t at_;
  uint64_t op_offset_ = 0;
  const std::string& source_;
  const std::set<std::string, std::less<>>& allowed_;
  Pickle result_;
  std::vector<size_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, size_t> memo_;
};

}  // namespace

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::none: return "None";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::big_integer: return "big int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::bytes: return "bytes";
    case Kind::tuple: return "tuple";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::global: return "global";
    case Kind::call: return "call";
    case Kind::persistent_id: return "persistent id";
  }
  return "?";
}

Pickle read_pickle(std::string_view bytes, uint64_t offset, const std::string& source,
                   const std::set<std::string, std::less<>>& allowed_globals) {
  return Reader(bytes, offset, source, allowed_globals).run();
}

size_t dict_find(const Pickle& pickle, const Object& dict, std::string_view key) {
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const Object& k = pickle.at(dict.items[i]);
    if (k.kind == Kind::string && k.text == key) return dict.items[i + 1];
  }
  return kNoObject;
}

}  // namespace gantry::io::pickle
