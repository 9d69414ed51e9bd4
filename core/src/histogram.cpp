#include "quietcore/core/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quietcore/core/error.hpp"

namespace qc::core {

namespace {

constexpr unsigned kMinPrecisionBits = 1;
constexpr unsigned kMaxPrecisionBits = 16;  // 2^-16 bound, ~26 MB for the full uint64 range

std::string format_double(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

void check_percentile(double p) {
    if (!(p >= 0 && p <= 100)) {  // also rejects NaN
        throw Error("histogram: percentile " + format_double(p) + " is outside 0 .. 100");
    }
}

}  // namespace

std::string HistogramConfig::to_string() const {
    return "precision_bits=" + std::to_string(precision_bits) +
           " highest_trackable=" + std::to_string(highest_trackable);
}

std::uint64_t percentile_rank(double p, std::uint64_t count) {
    check_percentile(p);
    if (count == 0) {
        return 0;
    }
    double exact = p / 100.0 * static_cast<double>(count);
    // A decimal p such as 99.9 is stored a hair high; without the slack its
    // rank could land one past an exact integer.
    double rank = std::ceil(exact - exact * 1e-12);
    return std::clamp<std::uint64_t>(static_cast<std::uint64_t>(rank), 1, count);
}

Histogram::Histogram(HistogramConfig config) : config_(config) {
    if (config.precision_bits < kMinPrecisionBits || config.precision_bits > kMaxPrecisionBits) {
        throw Error("histogram: precision_bits " + std::to_string(config.precision_bits) +
                    " is outside " + std::to_string(kMinPrecisionBits) + " .. " +
                    std::to_string(kMaxPrecisionBits));
    }
    if (config.highest_trackable == 0) {
        throw Error("histogram: highest_trackable 0 must be at least 1");
    }
    bucket_count_ = bucket_index(config.highest_trackable) + 1;
    // C++20 value-initialises std::atomic, so this writes every page now.
    slots_ = std::make_unique<Counter[]>(kStatSlots + bucket_count_);
    stat(kMin).store(UINT64_MAX, std::memory_order_relaxed);
}

Histogram::Histogram(const Histogram& other) : Histogram(other.config_) {
    merge(other);
}

Histogram& Histogram::operator=(const Histogram& other) {
    if (this != &other) {
        if (!slots_ || config_ != other.config_) {
            *this = Histogram(other.config_);
        } else {
            reset();
        }
        merge(other);
    }
    return *this;
}

void Histogram::merge(const Histogram& other) {
    if (config_ != other.config_) {
        throw Error("histogram merge: configuration " + other.config_.to_string() +
                    " does not match " + config_.to_string());
    }
    // Read other's total first (acquire): its writer stores the total after
    // the buckets, so the copy never claims more records than it has buckets
    // for.
    std::uint64_t total = other.count();
    for (std::size_t i = 0; i < bucket_count_; ++i) {
        std::uint64_t c = load(other.bucket(i));
        if (c != 0) {
            add(bucket(i), c);
        }
    }
    add(stat(kOverflow), load(other.stat(kOverflow)));
    std::uint64_t other_min = load(other.stat(kMin));
    if (other_min < load(stat(kMin))) {
        stat(kMin).store(other_min, std::memory_order_relaxed);
    }
    std::uint64_t other_max = load(other.stat(kMax));
    if (other_max > load(stat(kMax))) {
        stat(kMax).store(other_max, std::memory_order_relaxed);
    }
    u128 sum = (u128{load(stat(kSumHigh))} << 64) | load(stat(kSumLow));
    sum += (u128{load(other.stat(kSumHigh))} << 64) | load(other.stat(kSumLow));
    stat(kSumLow).store(static_cast<std::uint64_t>(sum), std::memory_order_relaxed);
    stat(kSumHigh).store(static_cast<std::uint64_t>(sum >> 64), std::memory_order_relaxed);
    // Last, as in record(): this histogram's readers see what it counts.
    stat(kTotal).store(load(stat(kTotal)) + total, std::memory_order_release);
}

void Histogram::reset() noexcept {
    for (std::size_t i = 0; i < kStatSlots + bucket_count_; ++i) {
        slots_[i].store(0, std::memory_order_relaxed);
    }
    stat(kMin).store(UINT64_MAX, std::memory_order_relaxed);
}

double Histogram::relative_error_bound() const noexcept {
    return std::ldexp(1.0, -static_cast<int>(precision_bits()));
}

std::uint64_t Histogram::min() const noexcept {
    return count() == 0 ? 0 : load(stat(kMin));
}

double Histogram::mean() const noexcept {
    std::uint64_t n = count();
    if (n == 0) {
        return 0;
    }
    u128 sum = (u128{load(stat(kSumHigh))} << 64) | load(stat(kSumLow));
    return static_cast<double>(static_cast<long double>(sum) / static_cast<long double>(n));
}

std::uint64_t Histogram::percentile(double p) const {
    std::uint64_t rank = percentile_rank(p, count());
    if (rank == 0) {
        return 0;
    }
    // The exact extremes, not their buckets' bounds.
    if (p == 0) {
        return min();
    }
    if (p == 100) {
        return max();
    }
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count_; ++i) {
        seen += load(bucket(i));
        if (seen >= rank) {
            return std::clamp(bucket_upper(i), min(), std::max(min(), max()));
        }
    }
    return max();  // the rank lies among the overflowed values
}

std::vector<HistogramBucket> Histogram::buckets() const {
    std::vector<HistogramBucket> out;
    for_each_bucket([&out](const HistogramBucket& b) { out.push_back(b); });
    return out;
}

std::uint64_t Histogram::bucket_lower(std::size_t index) const noexcept {
    if (index < (std::size_t{2} << precision_bits())) {
        return index;  // the exact region: one value per bucket
    }
    unsigned shift = static_cast<unsigned>((index >> precision_bits()) - 1);
    std::uint64_t sub_bucket = index - (std::size_t{shift} << precision_bits());
    return sub_bucket << shift;
}

std::uint64_t Histogram::bucket_upper(std::size_t index) const noexcept {
    std::uint64_t width_minus_one = 0;
    if (index >= (std::size_t{2} << precision_bits())) {
        unsigned shift = static_cast<unsigned>((index >> precision_bits()) - 1);
        width_minus_one = (std::uint64_t{1} << shift) - 1;
    }
    // The last bucket stops at highest_trackable; above it is overflow.
    return std::min(bucket_lower(index) + width_minus_one, config_.highest_trackable);
}

nlohmann::json to_json(const Histogram& h, const std::vector<double>& percentiles) {
    nlohmann::json out;
    out["configuration"] = {
        {"precision_bits", h.config().precision_bits},
        {"highest_trackable", h.config().highest_trackable},
        {"relative_error_bound", h.relative_error_bound()},
        {"bucket_count", h.bucket_count()},
    };
    out["count"] = h.count();
    out["overflow"] = h.overflow();
    out["min"] = h.min();
    out["max"] = h.max();
    out["mean"] = h.mean();
    nlohmann::json ps = nlohmann::json::array();
    for (double p : percentiles) {
        ps.push_back({{"p", p}, {"value", h.percentile(p)}});
    }
    out["percentiles"] = std::move(ps);
    nlohmann::json bs = nlohmann::json::array();
    h.for_each_bucket([&bs](const HistogramBucket& b) {
        bs.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}});
    });
    out["buckets"] = std::move(bs);
    return out;
}

}  // namespace qc::core
