// CpuSet and its two kernel text forms. The list parser follows the grammar
// of bitmap_parselist() in Linux 6.1 (lib/bitmap.c) and the mask parser that
// of bitmap_parse(), so that whatever the kernel accepted on its command line
// or in sysfs/procfs reads back here as the same set.
#include "quietcore/core/cpu_set.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#include "quietcore/core/error.hpp"

namespace qc::core {

namespace {

constexpr unsigned kWordBits = 64;
constexpr unsigned kGroupBits = 32;  // one comma-separated group of a hex mask

std::size_t words_for(unsigned bits) {
    return (bits + kWordBits - 1) / kWordBits;
}

// The kernel's isspace(): its ctype table also counts Latin-1 NBSP (0xA0).
bool is_kernel_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || static_cast<unsigned char>(c) == 0xA0;
}

// Regions of a list and groups of a mask are separated by commas and/or spaces.
bool is_separator(char c) {
    return is_kernel_space(c) || c == ',';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

int hex_value(char c) {
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// One region "start-end:used/group": from start to end, the first `used` CPUs
// of every `group` CPUs. A plain "A" or "A-B" has used == group == end+1.
// 64-bit so that end+1 cannot wrap.
struct Region {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t used = 0;
    std::uint64_t group = 0;
};

// Walks a cpulist region by region, like bitmap_parselist().
class ListParser {
  public:
    ListParser(std::string_view text, unsigned limit)
        : text_(text), limit_(limit), last_cpu_(limit - 1) {}

    // Skips separators before the next region; false once the list is over.
    bool next_region() {
        while (is_separator(at(pos_))) {
            ++pos_;
        }
        region_begin_ = pos_;
        return !done_ && at(pos_) != '\0';
    }

    Region parse_region() {
        Region r;
        if (starts_with_all()) {
            pos_ += 3;
            r.start = 0;
            r.end = last_cpu_;
        } else {
            r.start = number("expected a CPU number");
            if (ends_region(at(pos_))) {
                r.end = r.start;
                return plain(r);
            }
            if (at(pos_) != '-') {
                fail("expected '-' or a separator after the CPU number");
            }
            ++pos_;
            r.end = number("range has no end");
        }
        if (ends_region(at(pos_))) {
            return plain(r);
        }
        if (at(pos_) != ':') {
            fail("expected ':' or a separator after the range");
        }
        ++pos_;
        r.used = number("stride needs a used count, as in 0-15:2/4");
        if (at(pos_) != '/') {
            fail("stride needs used/group, as in 0-15:2/4");
        }
        ++pos_;
        // Like the kernel, the next region may follow a stride without a separator.
        r.group = number("stride needs a group size, as in 0-15:2/4");
        return r;
    }

    void check(const Region& r) const {
        if (r.start > r.end) {
            fail("range start is above its end");
        }
        if (r.group == 0) {
            fail("stride group size is zero");
        }
        if (r.used > r.group) {
            fail("stride uses more CPUs than its group has");
        }
        if (r.end >= limit_) {
            fail("CPU " + std::to_string(r.end) + " is at or beyond the limit of " +
                 std::to_string(limit_) + " CPUs");
        }
    }

  private:
    // Past the end reads as NUL, the kernel's string terminator.
    char at(std::size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

    static bool ends_region(char c) { return is_separator(c) || c == '\0'; }

    bool starts_with_all() const {
        const char* all = "all";
        for (std::size_t i = 0; i < 3; ++i) {
            char c = at(pos_ + i);
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<char>(c - 'A' + 'a');
            }
            if (c != all[i]) {
                return false;
            }
        }
        return true;
    }

    Region plain(Region r) {
        r.used = r.end + 1;
        r.group = r.end + 1;
        // A newline (or NUL) right after a plain region ends the whole list in
        // the kernel, whatever follows it.
        const char c = at(pos_);
        if (c == '\n' || c == '\0') {
            done_ = true;
        }
        return r;
    }

    // Decimal number, or "N" for the last CPU below the limit.
    std::uint64_t number(std::string_view missing) {
        if (at(pos_) == 'N') {
            ++pos_;
            return last_cpu_;
        }
        const std::size_t begin = pos_;
        std::uint64_t value = 0;
        bool overflow = false;
        for (; is_digit(at(pos_)); ++pos_) {
            if (!overflow) {
                value = value * 10 + static_cast<unsigned>(at(pos_) - '0');
                overflow = value > std::numeric_limits<std::uint32_t>::max();
            }
        }
        if (pos_ == begin) {
            fail(missing);
        }
        if (overflow) {
            fail("number does not fit in 32 bits");
        }
        return value;
    }

    // The bad token is the whole region being parsed.
    [[noreturn]] void fail(std::string_view reason) const {
        std::size_t stop = region_begin_;
        while (stop < text_.size() && !ends_region(text_[stop])) {
            ++stop;
        }
        throw ParseError("cpu list", text_, text_.substr(region_begin_, stop - region_begin_),
                         reason);
    }

    std::string_view text_;
    unsigned limit_;
    unsigned last_cpu_;  // what "N" means; wraps like the kernel's nbits - 1 when limit is 0
    std::size_t pos_ = 0;
    std::size_t region_begin_ = 0;
    bool done_ = false;
};

// Splits a hex mask into its groups (runs between commas/spaces), most
// significant first.
std::vector<std::string_view> mask_groups(std::string_view body) {
    std::vector<std::string_view> groups;
    std::size_t i = 0;
    while (i < body.size()) {
        if (is_separator(body[i])) {
            ++i;
            continue;
        }
        const std::size_t begin = i;
        while (i < body.size() && !is_separator(body[i])) {
            ++i;
        }
        groups.push_back(body.substr(begin, i - begin));
    }
    return groups;
}

}  // namespace

CpuSet::CpuSet(std::initializer_list<unsigned> cpus) {
    for (unsigned cpu : cpus) {
        add(cpu);
    }
}

CpuSet CpuSet::parse_list(std::string_view text, unsigned limit) {
    limit = std::min(limit, kMaxCpus);
    CpuSet set;
    set.words_.assign(words_for(limit), 0);
    ListParser parser(text, limit);
    while (parser.next_region()) {
        const Region r = parser.parse_region();
        parser.check(r);
        for (std::uint64_t group = r.start; group <= r.end; group += r.group) {
            const std::uint64_t stop = std::min(r.end + 1, group + r.used);
            for (std::uint64_t cpu = group; cpu < stop; ++cpu) {
                set.words_[cpu / kWordBits] |= std::uint64_t{1} << (cpu % kWordBits);
            }
        }
    }
    set.trim();
    return set;
}

CpuSet CpuSet::parse_mask(std::string_view text, unsigned limit) {
    constexpr std::string_view kWhat = "cpu mask";
    limit = std::min(limit, kMaxCpus);
    // Like bitmap_parse(), read up to the first newline (or NUL) only.
    std::string_view body = text.substr(0, text.find_first_of(std::string_view("\n\0", 2)));

    // Our one extension over the kernel: an optional 0x prefix.
    std::size_t first = 0;
    while (first < body.size() && is_kernel_space(body[first])) {
        ++first;
    }
    if (body.substr(first, 2) == "0x" || body.substr(first, 2) == "0X") {
        const std::size_t digits = first + 2;
        if (digits >= body.size() || is_separator(body[digits])) {
            throw ParseError(kWhat, text, body.substr(first, 2), "0x prefix without hex digits");
        }
        body = body.substr(digits);
    }

    const std::vector<std::string_view> groups = mask_groups(body);
    const std::size_t max_groups = (limit + kGroupBits - 1) / kGroupBits;
    if (groups.size() > max_groups) {
        throw ParseError(kWhat, text, groups.front(),
                         "more than " + std::to_string(max_groups) +
                             " 32-bit groups for a limit of " + std::to_string(limit) + " CPUs");
    }

    CpuSet set;
    set.words_.assign(words_for(limit), 0);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const std::string_view group = groups[g];
        if (group.size() > 8) {
            throw ParseError(kWhat, text, group, "group longer than 8 hex digits");
        }
        std::uint64_t value = 0;
        for (char c : group) {
            const int digit = hex_value(c);
            if (digit < 0) {
                throw ParseError(kWhat, text, group,
                                 "not a hex digit: '" + std::string(1, c) + "'");
            }
            value = (value << 4) | static_cast<unsigned>(digit);
        }
        // groups.back() holds CPUs 0-31.
        const std::uint64_t base = (groups.size() - 1 - g) * kGroupBits;
        const auto width = static_cast<std::uint64_t>(std::bit_width(value));
        if (base + width > limit) {
            throw ParseError(kWhat, text, group,
                             "sets CPU " + std::to_string(base + width - 1) +
                                 ", at or beyond the limit of " + std::to_string(limit) + " CPUs");
        }
        set.words_[base / kWordBits] |= value << (base % kWordBits);
    }
    set.trim();
    return set;
}

std::string CpuSet::to_list() const {
    std::string out;
    const unsigned stop = end();
    unsigned cpu = 0;
    while (cpu < stop) {
        if (!contains(cpu)) {
            ++cpu;
            continue;
        }
        unsigned last = cpu;
        while (last + 1 < stop && contains(last + 1)) {
            ++last;
        }
        if (!out.empty()) {
            out += ',';
        }
        out += std::to_string(cpu);
        if (last > cpu) {
            out += '-';
            out += std::to_string(last);
        }
        cpu = last + 1;
    }
    return out;
}

std::string CpuSet::to_mask() const {
    constexpr char kHex[] = "0123456789abcdef";
    const unsigned groups = std::max(1u, (end() + kGroupBits - 1) / kGroupBits);
    std::string out;
    out.reserve(groups * 9);
    for (unsigned g = groups; g-- > 0;) {
        const unsigned base = g * kGroupBits;
        const std::size_t word = base / kWordBits;
        const std::uint64_t bits = word < words_.size() ? words_[word] : 0;
        const auto value = static_cast<std::uint32_t>(bits >> (base % kWordBits));
        for (int shift = 28; shift >= 0; shift -= 4) {
            out += kHex[(value >> shift) & 0xF];
        }
        if (g != 0) {
            out += ',';
        }
    }
    return out;
}

void CpuSet::add(unsigned cpu) {
    if (cpu >= kMaxCpus) {
        throw Error("CpuSet::add: CPU " + std::to_string(cpu) + " is at or beyond the limit of " +
                    std::to_string(kMaxCpus) + " CPUs");
    }
    const std::size_t word = cpu / kWordBits;
    if (word >= words_.size()) {
        words_.resize(word + 1, 0);
    }
    words_[word] |= std::uint64_t{1} << (cpu % kWordBits);
}

void CpuSet::remove(unsigned cpu) {
    const std::size_t word = cpu / kWordBits;
    if (word < words_.size()) {
        words_[word] &= ~(std::uint64_t{1} << (cpu % kWordBits));
        trim();
    }
}

bool CpuSet::contains(unsigned cpu) const noexcept {
    const std::size_t word = cpu / kWordBits;
    return word < words_.size() && (words_[word] >> (cpu % kWordBits) & 1) != 0;
}

bool CpuSet::empty() const noexcept {
    return words_.empty();  // trim() keeps no zero words
}

std::size_t CpuSet::count() const noexcept {
    std::size_t n = 0;
    for (std::uint64_t w : words_) {
        n += static_cast<std::size_t>(std::popcount(w));
    }
    return n;
}

int CpuSet::first() const noexcept {
    for (std::size_t i = 0; i < words_.size(); ++i) {
        if (words_[i] != 0) {
            return static_cast<int>(i * kWordBits) + std::countr_zero(words_[i]);
        }
    }
    return -1;
}

unsigned CpuSet::end() const noexcept {
    if (words_.empty()) {
        return 0;
    }
    return static_cast<unsigned>(words_.size() * kWordBits) -
           static_cast<unsigned>(std::countl_zero(words_.back()));
}

std::vector<unsigned> CpuSet::cpus() const {
    std::vector<unsigned> out;
    out.reserve(count());
    for (std::size_t i = 0; i < words_.size(); ++i) {
        for (std::uint64_t w = words_[i]; w != 0; w &= w - 1) {
            out.push_back(static_cast<unsigned>(i * kWordBits) +
                          static_cast<unsigned>(std::countr_zero(w)));
        }
    }
    return out;
}

CpuSet CpuSet::operator|(const CpuSet& o) const {
    CpuSet out = words_.size() >= o.words_.size() ? *this : o;
    const CpuSet& other = words_.size() >= o.words_.size() ? o : *this;
    for (std::size_t i = 0; i < other.words_.size(); ++i) {
        out.words_[i] |= other.words_[i];
    }
    return out;
}

CpuSet CpuSet::operator&(const CpuSet& o) const {
    CpuSet out;
    out.words_.resize(std::min(words_.size(), o.words_.size()));
    for (std::size_t i = 0; i < out.words_.size(); ++i) {
        out.words_[i] = words_[i] & o.words_[i];
    }
    out.trim();
    return out;
}

CpuSet CpuSet::operator-(const CpuSet& o) const {
    CpuSet out = *this;
    for (std::size_t i = 0; i < std::min(out.words_.size(), o.words_.size()); ++i) {
        out.words_[i] &= ~o.words_[i];
    }
    out.trim();
    return out;
}

bool CpuSet::operator==(const CpuSet& o) const noexcept {
    return words_ == o.words_;
}

bool CpuSet::is_subset_of(const CpuSet& o) const noexcept {
    for (std::size_t i = 0; i < words_.size(); ++i) {
        const std::uint64_t theirs = i < o.words_.size() ? o.words_[i] : 0;
        if ((words_[i] & ~theirs) != 0) {
            return false;
        }
    }
    return true;
}

bool CpuSet::intersects(const CpuSet& o) const noexcept {
    for (std::size_t i = 0; i < std::min(words_.size(), o.words_.size()); ++i) {
        if ((words_[i] & o.words_[i]) != 0) {
            return true;
        }
    }
    return false;
}

void CpuSet::trim() {
    while (!words_.empty() && words_.back() == 0) {
        words_.pop_back();
    }
}

}  // namespace qc::core
