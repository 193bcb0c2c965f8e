// A user as the database stores' `users` row: the statements both SQLite and PostgreSQL run,
// and the conversion of a row (every column as text, NULL as nullopt) to and from a User.
// Parameters are written $1..$n (PostgreSQL); SQLite reads them as ?1..?n (sqlite_sql()).
#pragma once

#include <optional>
#include <string>

#include "ftpd/sql_row.hpp"
#include "ftpd/user_db.hpp"

namespace muxio::ftpd {

// SELECT of one user by name ($1), and of all users ordered by name: columns in row order.
extern const char* const kSelectUserSql;
extern const char* const kListUsersSql;
// INSERT or UPDATE of every column: parameters in row order.
extern const char* const kPutUserSql;
// DELETE by name ($1).
extern const char* const kDeleteUserSql;

SqlRow user_to_row(const User& user);
// Nullopt, with *error set, for a row this program cannot use (unknown permission letters, a
// limit that is not a number).
std::optional<User> user_from_row(const SqlRow& row, std::string* error);

// The same statement with SQLite's numbered parameters.
std::string sqlite_sql(const char* sql);

}  // namespace muxio::ftpd
