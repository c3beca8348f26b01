// CTest registers each Catch2 test case by name (catch_discover_tests), and a ';' in a name splits
// it into two CMake list items: neither matches a test case, so the case silently never runs
// under CTest. Every test name is checked here.
#include <catch2/catch.hpp>

#include <string>

TEST_CASE("test names hold no semicolon, which CTest would split into names matching nothing",
          "[meta]") {
  const auto& all = Catch::getRegistryHub().getTestCaseRegistry().getAllTests();
  REQUIRE(all.size() > 100);
  for (const Catch::TestCase& t : all) {
    INFO(t.name);
    CHECK(t.name.find(';') == std::string::npos);
  }
}
