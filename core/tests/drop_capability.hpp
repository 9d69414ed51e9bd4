// Tests that prove an EPERM path for real drop a capability in a forked child.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

namespace qc::test {

// Drops one capability from the effective, permitted and inheritable sets of
// the calling process (raw capset: libcap is not a dependency).
inline bool drop_capability(int cap) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
    if (::syscall(SYS_capget, &header, data.data()) != 0) {
        return false;
    }
    const auto bit = 1u << (cap % 32);
    auto& word = data[cap / 32];
    word.effective &= ~bit;
    word.permitted &= ~bit;
    word.inheritable &= ~bit;
    return ::syscall(SYS_capset, &header, data.data()) == 0;
}

}  // namespace qc::test
