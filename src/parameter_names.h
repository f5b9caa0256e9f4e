#pragma once

#include <string_view>

namespace access_limiter {

// How applications read a request's parameter names, so that a request in
// which the application could read the key parameter with a value other
// than the one counted can be refused.
//
// PHP registers $_GET, $_POST, $_COOKIE and $_REQUEST entries under a
// normalised name: leading spaces dropped, the name cut at a NUL byte,
// ' ' and '.' turned into '_', and a '[' with a ']' after it starting an
// array index ("k[]" and "k[x]" make $_GET['k'] an array). A '[' without
// a ']' becomes '_'; PHP 8 then turns ' ', '.' and '[' in the rest into '_'
// as well, PHP 7 keeps the rest as it is. Both are honoured here.
// Rack (Ruby) reads "[k]", "k]" and "k[x]" as k too. Otherwise names
// compare exactly: case matters, as in PHP, Perl's CGI.pm, Python and Rack. An application that folds case (ASP.NET) or reads its
// key elsewhere (a JSON body) is not covered: key such a location by a
// header (ACCESS_KEY=header:NAME).
//
// True when an application could read a parameter whose decoded name is
// `name` as the parameter `parameter`: the same name, or one PHP turns into
// it or into an array of it.
bool readAsParameter(std::string_view name, std::string_view parameter);

}  // namespace access_limiter
