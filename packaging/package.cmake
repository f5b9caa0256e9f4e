# The Debian package: install() rules for what it holds, and CPack's DEB
# generator. "cmake --build build --target package" writes
# build/access-limiter_<version>-<release>_<arch>.deb. Included from the top
# CMakeLists.txt; the package's other files are in packaging/.

set(ACCESS_PACKAGE_RELEASE 1 CACHE STRING "The Debian revision of the package (the -N of its version)")
set(package_dir ${CMAKE_SOURCE_DIR}/packaging)
set(staged_dir ${CMAKE_BINARY_DIR}/package-files)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# The confs as packaged: the settings file first, then the conf's defaults
# (ACCESS_AUTHORIZER, say, may be Defined there).
function(stage_apache_conf name)
  file(READ ${CMAKE_SOURCE_DIR}/apache/${name} apache_conf)
  file(WRITE ${staged_dir}/${name}.new
    "# Installed by the access-limiter package (a conffile: your edits survive\n"
    "# upgrades). The settings belong in /etc/access-limiter/settings.conf.\n"
    "IncludeOptional /etc/access-limiter/settings.conf\n\n${apache_conf}")
  configure_file(${staged_dir}/${name}.new ${staged_dir}/${name} COPYONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/apache/${name})
endfunction()
stage_apache_conf(access-limiter.conf)
stage_apache_conf(access-limiter-authorizer.conf)

# Debian wants both compressed with gzip -9n (no name, no time: reproducible).
find_program(GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${staged_dir}/changelog.Debian.gz
  COMMAND ${GZIP} -9nc ${package_dir}/changelog > ${staged_dir}/changelog.Debian.gz
  DEPENDS ${package_dir}/changelog VERBATIM)
find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(OUTPUT ${staged_dir}/access-limiter.8.gz
    COMMAND ${HELP2MAN} --no-info --section 8 --source "access-limiter"
            --include ${package_dir}/access-limiter.h2m
            --output ${staged_dir}/access-limiter.8 $<TARGET_FILE:access-limiter>
    COMMAND ${GZIP} -9nf ${staged_dir}/access-limiter.8
    DEPENDS access-limiter ${package_dir}/access-limiter.h2m VERBATIM)
  add_custom_target(package-files ALL DEPENDS ${staged_dir}/changelog.Debian.gz ${staged_dir}/access-limiter.8.gz)
  install(FILES ${staged_dir}/access-limiter.8.gz DESTINATION /usr/share/man/man8)
else()
  add_custom_target(package-files ALL DEPENDS ${staged_dir}/changelog.Debian.gz)
  install(CODE "message(FATAL_ERROR \"the package's man page needs help2man: apt-get install help2man\")")
endif()

install(TARGETS access-limiter access-health DESTINATION /usr/lib/cgi-bin)
install(CODE "file(MAKE_DIRECTORY \$ENV{DESTDIR}/usr/sbin)
  file(CREATE_LINK ../lib/cgi-bin/access-limiter \$ENV{DESTDIR}/usr/sbin/access-limiter SYMBOLIC)")
install(FILES ${staged_dir}/access-limiter.conf ${staged_dir}/access-limiter-authorizer.conf
  DESTINATION /etc/apache2/conf-available)
# The fragment an operator Includes in a <Location> (docs/package.md): a
# conffile at a path that stays put, as the conf's own example names it.
install(FILES ${CMAKE_SOURCE_DIR}/apache/access-limiter-protect.conf DESTINATION /etc/apache2)
install(FILES ${CMAKE_SOURCE_DIR}/apache/unavailable.asis DESTINATION /usr/share/access-limiter)
install(FILES ${package_dir}/access-limiter.cron DESTINATION /etc/cron.d RENAME access-limiter)
install(FILES ${package_dir}/access-limiter-gc.service ${package_dir}/access-limiter-gc.timer
  ${package_dir}/access-limiter-authorizer.socket ${package_dir}/access-limiter-authorizer.service
  DESTINATION /lib/systemd/system)
install(FILES ${package_dir}/settings.conf DESTINATION /usr/share/access-limiter)
# Static on purpose (docs/package.md, "lintian"): lintian's
# statically-linked-binary is overridden for the two programs.
install(FILES ${package_dir}/lintian-overrides DESTINATION /usr/share/lintian/overrides
  RENAME access-limiter)
install(FILES ${package_dir}/copyright ${staged_dir}/changelog.Debian.gz
  DESTINATION /usr/share/doc/access-limiter)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME access-limiter)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${ACCESS_PACKAGE_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "access-limiter dev <dev@access-limiter.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "apache2 (>= 2.4)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cron | systemd-sysv")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "glusterfs-client")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "per-key request limiter for Apache clusters (CGI, FastCGI authorizer)")
set(CPACK_PACKAGE_DESCRIPTION "access-limiter admits at most N requests per API key per window and answers
429 Too Many Requests beyond, with a JSON body, before the application
starts. It runs as a CGI program, either as an endpoint of its own or as
Apache's Action handler in front of CGI and PHP applications, or as a
persistent FastCGI authorizer that mod_authnz_fcgi asks in front of
anything Apache serves (php-fpm, a proxied application, static files).
The counters are files, so web nodes that mount one GlusterFS volume
share one limit.

The package enables its Apache confs and the modules they need, keeps its
settings in /etc/access-limiter/settings.conf, serves the authorizer on
127.0.0.1:9137 from a systemd socket unit (as www-data, one worker per
core), and collects past windows every minute with a systemd timer (or
cron where systemd is not running).")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)  # static programs: no shared libraries
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${package_dir}/conffiles ${package_dir}/postinst ${package_dir}/prerm ${package_dir}/postrm)
include(CPack)
