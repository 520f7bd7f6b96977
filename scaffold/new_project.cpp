#include "scaffold/new_project.hpp"

#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "scaffold/template_text.hpp"
#include "scaffold/templates.hpp"

namespace routemq::scaffold {

std::vector<ProjectFile> project_files(const NewProject& project) {
  std::set<std::string> options;
  if (project.redis) options.insert("redis");
  if (project.docker) options.insert("docker");
  std::vector<ProjectFile> files;
  for (const auto& file : templates()) {
    if (file.set == "docker" && !project.docker) continue;
    files.push_back({std::string(file.path), render_template(file.text, project.name, options)});
  }
  return files;
}

void write_project(const std::filesystem::path& directory, const std::vector<ProjectFile>& files) {
  namespace fs = std::filesystem;
  if (fs::exists(directory) && !(fs::is_directory(directory) && fs::is_empty(directory)))
    throw std::runtime_error(fmt::format("{} already exists and is not an empty directory: nothing written",
                                         directory.string()));
  for (const auto& file : files) {
    const auto path = directory / fs::path(file.path);
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << file.text;
    if (!out.flush()) throw std::runtime_error(fmt::format("could not write {}", path.string()));
  }
}

}  // namespace routemq::scaffold
