#pragma once
// `routemq new NAME [--redis] [--docker]`: a service of its own, outside this repository, that finds
// routemq with find_package, builds, tests its routes in process and runs (its README says how).
//
//   const auto files = project_files({.name = parse_service_name("greenhouse"), .redis = true});
//   write_project("greenhouse", files);
#include <filesystem>
#include <string>
#include <vector>

#include "scaffold/service_name.hpp"

namespace routemq::scaffold {

struct NewProject {
  ServiceName name;
  bool redis = false;   // a route that uses the RedisManager, Redis enabled in its config and compose file
  bool docker = false;  // a Dockerfile and a docker-compose.yml (broker, Redis, the service)
};

struct ProjectFile {
  std::string path;  // relative, '/'-separated
  std::string text;
};

// Every file of the project, rendered (no I/O).
std::vector<ProjectFile> project_files(const NewProject& project);

// Writes the files under `directory`, which must not exist or be empty; throws std::runtime_error
// saying why not, before writing anything.
void write_project(const std::filesystem::path& directory, const std::vector<ProjectFile>& files);

}  // namespace routemq::scaffold
