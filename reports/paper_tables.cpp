#include "reports/paper_tables.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/error.h"
#include "common/io.h"

namespace glamm::reports {

using nlohmann::json;

std::size_t PaperTable::num_columns() const {
  std::size_t n = 0;
  for (const auto& g : groups) n += g.columns.size();
  return n;
}

const PaperColumn& PaperTable::column(std::size_t j) const {
  for (const auto& g : groups) {
    if (j < g.columns.size()) return g.columns[j];
    j -= g.columns.size();
  }
  throw std::out_of_range("PaperTable::column");
}

const PaperRow& PaperTable::row(const std::string& name) const {
  std::string names;
  for (const auto& r : rows) {
    if (r.name == name) return r;
    names += (names.empty() ? "" : ", ") + r.name;
  }
  throw InputError("", "table " + id, "no published row '" + name + "' (rows: " + names + ")");
}

const PaperTable& PaperTables::table(const std::string& id) const {
  std::string ids;
  for (const auto& t : tables) {
    if (t.id == id) return t;
    ids += (ids.empty() ? "" : ", ") + t.id;
  }
  throw InputError("", "--table", "no paper table '" + id + "' (available: " + ids + ")");
}

bool PaperTables::is_percent(const std::string& metric) const {
  return std::find(percent_metrics.begin(), percent_metrics.end(), metric) != percent_metrics.end();
}

namespace {

std::string str_field(const json& j, const char* key, const std::string& source, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw InputError(source, where, std::string("needs a string '") + key + "'");
  return it->get<std::string>();
}

std::vector<std::string> str_list(const json& j, const char* key, const std::string& source, const std::string& where) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end()) return out;
  if (!it->is_array()) throw InputError(source, where, std::string("'") + key + "' must be a list of strings");
  for (const auto& e : *it) {
    if (!e.is_string()) throw InputError(source, where, std::string("'") + key + "' must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

PaperTables parse_paper_tables(const json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("tables") || !j["tables"].is_array())
    throw InputError(source, "", "not a paper-table file (needs an object with a 'tables' list)");
  PaperTables pt;
  if (j.contains("source") && j["source"].is_string()) pt.source = j["source"].get<std::string>();
  pt.percent_metrics = str_list(j, "percent_metrics", source, "");
  for (const auto& tj : j["tables"]) {
    PaperTable t;
    t.id = str_field(tj, "id", source, "tables[]");
    const std::string where = "table " + t.id;
    t.task = str_field(tj, "task", source, where);
    t.caption = str_field(tj, "caption", source, where);
    t.row_header = str_field(tj, "row_header", source, where);
    if (!tj.contains("groups") || !tj["groups"].is_array()) throw InputError(source, where, "needs 'groups'");
    for (const auto& gj : tj["groups"]) {
      PaperGroup g;
      g.name = str_field(gj, "name", source, where);
      if (!gj.contains("columns") || !gj["columns"].is_array() || gj["columns"].empty())
        throw InputError(source, where + " group " + g.name, "needs a non-empty 'columns' list");
      for (const auto& cj : gj["columns"]) {
        PaperColumn c;
        c.name = str_field(cj, "name", source, where);
        c.metric = str_field(cj, "metric", source, where);
        c.datasets = str_list(cj, "datasets", source, where);
        c.splits = str_list(cj, "splits", source, where);
        g.columns.push_back(std::move(c));
      }
      t.groups.push_back(std::move(g));
    }
    if (tj.contains("rows")) {
      for (const auto& rj : tj["rows"]) {
        PaperRow r;
        r.name = str_field(rj, "name", source, where);
        r.cells = str_list(rj, "cells", source, where + " row " + r.name);
        for (std::size_t c = 0; c < r.cells.size(); ++c) {
          // strtod reads "1e400", "inf" and "nan" too: a published value is a finite number, "-" or text.
          const std::string text = cell_text(r.cells[c]);
          char* end = nullptr;
          const double v = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
          if (!text.empty() && end && *end == '\0' && !std::isfinite(v))
            throw InputError(source, where + " row " + r.name + " cell " + std::to_string(c + 1),
                             "'" + r.cells[c] + "' is not a finite number");
        }
        if (r.cells.size() != t.num_columns())
          throw InputError(source, where + " row " + r.name,
                           "has " + std::to_string(r.cells.size()) + " cells for " + std::to_string(t.num_columns()) +
                               " columns");
        t.rows.push_back(std::move(r));
      }
    }
    if (tj.contains("delta_row")) {
      const json& d = tj["delta_row"];
      t.delta_default_row = str_field(d, "default", source, where + " delta_row");
      if (d.contains("label_rules"))
        for (const auto& rule : d["label_rules"])
          t.delta_rules.push_back({str_field(rule, "label_contains", source, where + " delta_row"),
                                   str_field(rule, "row", source, where + " delta_row")});
    }
    pt.tables.push_back(std::move(t));
  }
  return pt;
}

const PaperTables& builtin_paper_tables() {
  static const PaperTables t = parse_paper_tables(json::parse(embedded_paper_tables_json()), "reports/paper_tables.json");
  return t;
}

PaperTables load_paper_tables(const std::string& path) {
  json j;
  const std::string text = io::read_text_file(path);
  io::check_json_depth(text, path);
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw io::json_syntax_error(text, path, e.what());
  } catch (const json::out_of_range& e) {  // a number beyond the double range, e.g. 1e400
    throw io::json_number_error(text, path, e);
  }
  return parse_paper_tables(j, path);
}

bool cell_is_bold(const std::string& cell) {
  return cell.size() >= 7 && cell.compare(0, 3, "<b>") == 0 && cell.compare(cell.size() - 4, 4, "</b>") == 0;
}

std::string cell_text(const std::string& cell) {
  return cell_is_bold(cell) ? cell.substr(3, cell.size() - 7) : cell;
}

bool parse_cell(const std::string& cell, double& value) {
  const std::string t = cell_text(cell);
  if (t.empty() || t == "-") return false;
  char* end = nullptr;
  value = std::strtod(t.c_str(), &end);
  return end && *end == '\0';
}

}  // namespace glamm::reports
