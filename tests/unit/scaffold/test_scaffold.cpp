// `routemq new` without files: names, the template rules, and the projects the templates make.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "scaffold/new_project.hpp"
#include "scaffold/template_text.hpp"
#include "tests/support/temp_dir.hpp"

using namespace routemq::scaffold;

namespace {

const ServiceName greenhouse = parse_service_name("green-house");

std::vector<std::string> paths_of(const std::vector<ProjectFile>& files) {
  std::vector<std::string> paths;
  for (const auto& file : files) paths.push_back(file.path);
  std::sort(paths.begin(), paths.end());
  return paths;
}

const ProjectFile& file_named(const std::vector<ProjectFile>& files, const std::string& path) {
  auto it = std::find_if(files.begin(), files.end(), [&](const ProjectFile& file) { return file.path == path; });
  REQUIRE(it != files.end());
  return *it;
}

}  // namespace

TEST_CASE("scaffold: a service's name, and the spellings its files need") {
  CHECK(greenhouse.name == "green-house");
  CHECK(greenhouse.identifier == "green_house");
  CHECK(greenhouse.upper == "GREEN_HOUSE");
  CHECK(parse_service_name("a").identifier == "a");
  CHECK(parse_service_name("s3_bridge-2").upper == "S3_BRIDGE_2");

  CHECK_THROWS_WITH(parse_service_name(""), Catch::Contains("needs a name"));
  CHECK_THROWS_WITH(parse_service_name("Greenhouse"), Catch::Contains("lower-case letter"));
  CHECK_THROWS_WITH(parse_service_name("9lives"), Catch::Contains("lower-case letter"));
  CHECK_THROWS_WITH(parse_service_name("green house"), Catch::Contains("' ' at 6"));
  CHECK_THROWS_WITH(parse_service_name("../escape"), Catch::Contains("lower-case letter"));
  CHECK_THROWS_WITH(parse_service_name("a/b"), Catch::Contains("'/' at 2"));
  CHECK_THROWS_WITH(parse_service_name("grün"), Catch::Contains("at 3"));
  CHECK_THROWS_WITH(parse_service_name(std::string(65, 'a')), Catch::Contains("at most 64"));
  CHECK_THROWS_WITH(parse_service_name(std::string(1 << 20, 'a')), Catch::Contains("at most 64"));  // not echoed whole
  CHECK_THROWS_WITH(parse_service_name("svc*"), Catch::Contains("'*' at 4"));  // globs name no directory
  CHECK_THROWS_WITH(parse_service_name("svc?x"), Catch::Contains("'?' at 4"));
  CHECK_THROWS_WITH(parse_service_name(std::string("svc\xff\xfe", 5)), Catch::Contains("'svc\\xff\\xfe' has '\\xff' at 4"));  // not UTF-8, shown as bytes
  CHECK_THROWS_WITH(parse_service_name(std::string("svc\0x", 5)), Catch::Contains("'svc\\x00x' has '\\x00' at 4"));
  CHECK_THROWS_WITH(parse_service_name("delete"), Catch::Contains("C++ namespace"));
  CHECK_THROWS_WITH(parse_service_name("routemq"), Catch::Contains("C++ namespace"));
  CHECK_THROWS_AS(parse_service_name("co-await"), InvalidName);  // co_await
}

TEST_CASE("scaffold: templates keep or drop @@if blocks and fill in the names") {
  const std::string text = "a __NAME__\n@@if redis\nr __IDENT__\n@@end\n@@if !redis\nn __IDENT_UPPER___X\n@@end\nz";
  CHECK(render_template(text, greenhouse, {"redis"}) == "a green-house\nr green_house\nz");
  CHECK(render_template(text, greenhouse, {}) == "a green-house\nn GREEN_HOUSE_X\nz");
  CHECK(render_template("", greenhouse, {}).empty());
  CHECK(render_template("no newline at the end", greenhouse, {}) == "no newline at the end");

  CHECK_THROWS_WITH(render_template("@@if redis\n", greenhouse, {}), Catch::Contains("not closed"));
  CHECK_THROWS_WITH(render_template("@@end\n", greenhouse, {}), Catch::Contains("line 1: @@end without @@if"));
  CHECK_THROWS_WITH(render_template("x\n@@if a\n@@if b\n@@end\n@@end\n", greenhouse, {}), Catch::Contains("line 3"));
  CHECK_THROWS_WITH(render_template("@@if \n@@end\n", greenhouse, {}), Catch::Contains("names no option"));
  CHECK_THROWS_WITH(render_template("@@fi\n", greenhouse, {}), Catch::Contains("unknown directive"));
}

TEST_CASE("scaffold: every option's project is complete, and nothing of the templates is left in it") {
  for (bool redis : {false, true})
    for (bool docker : {false, true}) {
      const auto files = project_files({.name = greenhouse, .redis = redis, .docker = docker});
      std::vector<std::string> expected{".env.example", ".gitignore", "CMakeLists.txt", "README.md", "config/app.yaml",
                                        "src/main.cpp", "src/routes.cpp", "src/routes.hpp", "tests/test_routes.cpp"};
      if (docker)
        expected.insert(expected.end(), {".dockerignore", "Dockerfile", "docker-compose.yml", "docker/mosquitto.conf"});
      std::sort(expected.begin(), expected.end());
      CHECK(paths_of(files) == expected);
      for (const auto& file : files) {
        INFO(file.path);
        CHECK(file.text.find("__") == std::string::npos);  // no placeholder left (no template uses "__" otherwise)
        CHECK(file.text.find("@@") == std::string::npos);
      }
      const auto& routes = file_named(files, "src/routes.cpp").text;
      CHECK((routes.find("redis::manager(ctx)") != std::string::npos) == redis);
      CHECK(file_named(files, "CMakeLists.txt").text.find("project(green-house") != std::string::npos);
      CHECK(routes.find("namespace green_house {") != std::string::npos);
      CHECK((file_named(files, "config/app.yaml").text.find("redis:\n  enabled: true") != std::string::npos) == redis);
      if (docker) CHECK((file_named(files, "docker-compose.yml").text.find("redis:7") != std::string::npos) == redis);
    }
}

TEST_CASE("scaffold: a project is written into a new or empty folder, never over another") {
  routemq::test::TempDir root;
  const auto files = project_files({.name = greenhouse});
  write_project(root / "new/deeper", files);
  CHECK(std::filesystem::exists(root / "new/deeper/src/routes.cpp"));
  std::filesystem::create_directory(root / "empty");
  write_project(root / "empty", files);
  CHECK(std::filesystem::exists(root / "empty/config/app.yaml"));
  CHECK_THROWS_WITH(write_project(root / "empty", files), Catch::Contains("already exists"));
  std::ofstream(root / "a-file") << "x";
  CHECK_THROWS_WITH(write_project(root / "a-file", files), Catch::Contains("not an empty directory"));
}
