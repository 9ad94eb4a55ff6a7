// The test harness: a table of test cases, each run on a set of vCPUs at
// once, with one TAP-like result line per case on the console:
//
//   HWTEST ok - <name>
//   HWTEST not ok - <name>: vCPU<n>: <first failed check> [fails on vCPU <list>]
//   HWTEST detail - <name>: vCPU<m>: <...>   (another vCPU failed it differently; not counted)
//   HWTEST skip - <name>: <reason>          (a feature the CPU lacks; not counted)
//   HWTEST metric <name> <value> <unit>
//   HWTEST done <passed> passed, <failed> failed
//
// A test function runs on every vCPU in its set (TestCase::cpus), each with
// its own Test. Checks record the first failure per vCPU; synchronous
// exceptions the test did not consume with take_fault() fail it too.
#pragma once
#include "console.h"
#include "base.h"

class Test;
using TestFn = void (*)(Test&);

struct TestCase {
    const char* name;
    TestFn fn;
    u32 cpus;  // bit n: runs on vCPU n
};
constexpr u32 kAllCpus = 0xf;
constexpr u32 kCpu0 = 0x1;

class Test {
public:
    Test(u32 id, u32 cpus) : id(id), cpus(cpus) {}
    const u32 id;    // this vCPU
    const u32 cpus;  // every vCPU running this test

    // Records a failure (the first one's text is reported) unless ok.
    bool check(bool ok, const char* fmt, ...) PRINTF_LIKE(3, 4);
    void skip(const char* fmt, ...) PRINTF_LIKE(2, 3);
    // Barrier across `cpus`; false after 10 s (the check is recorded).
    bool sync();
    bool failed() const;
};

// Every test, in the order they run (tests.cpp).
extern const TestCase kTests[];
extern const u32 kNumTests;

void harness_execute(const TestCase& tc);  // on this vCPU (worker or primary)
void harness_run_all();                     // primary
void metric(const char* name, const char* fmt, ...) PRINTF_LIKE(2, 3);
