# Install rules and the Debian package (CPack DEB). Included at the end of the top-level
# CMakeLists.txt, after every target exists.
#
#   cmake --install build --prefix /usr          # binaries, web files, unit, default config
#   (cd build && cpack -G DEB)                   # build/switchboard_<version>_<arch>.deb
#
# Layout (prefix /usr): bin/switchboard, bin/switchboard-bench, share/switchboard/web/ (found by
# the installed binary next to itself: see sb_config_default_web_dir), lib/switchboard/ (the
# OpenSSL build of libsrtp2, private: reached through the RPATH $ORIGIN/../lib/switchboard),
# lib/systemd/system/switchboard.service, share/doc/switchboard/, and
# /etc/switchboard/switchboard.yaml (absolute: a conffile of the package).
include(GNUInstallDirs)

set(SB_VERSION "0.1.0")
set(SB_PRIVATE_LIBDIR "${CMAKE_INSTALL_LIBDIR}/switchboard")
if(CMAKE_INSTALL_LIBDIR MATCHES "/")
  set(SB_PRIVATE_LIBDIR "lib/switchboard") # Debian's multiarch libdir is not needed here
endif()

set(SB_INSTALLED_BINARIES switchboard)
if(TARGET switchboard-bench)
  list(APPEND SB_INSTALLED_BINARIES switchboard-bench)
endif()

if(SB_SRTP_BUILD STREQUAL "openssl-local")
  # The installed binaries find the private libsrtp2 relative to themselves, never in /opt.
  set_target_properties(${SB_INSTALLED_BINARIES} PROPERTIES
                        INSTALL_RPATH "$ORIGIN/../${SB_PRIVATE_LIBDIR}")
  get_filename_component(sb_srtp_real "${SRTP_LIBDIR}/libsrtp2.so.1" REALPATH)
  install(FILES "${sb_srtp_real}" DESTINATION "${SB_PRIVATE_LIBDIR}" RENAME libsrtp2.so.1
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  set(sb_srtp_depends "")
else()
  set_target_properties(${SB_INSTALLED_BINARIES} PROPERTIES INSTALL_RPATH "")
  set(sb_srtp_depends ", libsrtp2-1")
endif()

# The server's allocator (SB_TCMALLOC in the top-level CMakeLists.txt).
set(sb_malloc_depends "")
if(SB_MALLOC STREQUAL "tcmalloc")
  set(sb_malloc_depends ", libtcmalloc-minimal4 (>= 2.10)")
endif()

install(TARGETS ${SB_INSTALLED_BINARIES} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${CMAKE_SOURCE_DIR}/web/" DESTINATION "${CMAKE_INSTALL_DATADIR}/switchboard/web")
install(FILES "${CMAKE_SOURCE_DIR}/docs/operations.md" "${CMAKE_SOURCE_DIR}/README.md"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(FILES "${CMAKE_SOURCE_DIR}/packaging/switchboard.service"
        DESTINATION "lib/systemd/system")
install(FILES "${CMAKE_SOURCE_DIR}/packaging/switchboard.yaml" DESTINATION "/etc/switchboard")

# The .deb: `cpack -G DEB` in the build directory.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "switchboard")
set(CPACK_PACKAGE_VERSION "${SB_VERSION}")
set(CPACK_PACKAGE_CONTACT "Switchboard maintainers <switchboard@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "SFU for calls between people of different companies (signaling and media relay)")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/switchboard")
# Runtime packages of what the binaries link (objdump -p: NEEDED), libwebsockets' libuv event
# loop plugin (loaded at run time, so invisible to NEEDED) and libpq5 for a PostgreSQL --db.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6 (>= 2.36), libuv1 (>= 1.44), libnice10 (>= 0.1.18), libssl3 (>= 3.0), libopus0, \
libvpx7, libwebsockets17, libwebsockets-evlib-uv, libjansson4 (>= 2.14), libjwt0 (>= 1.10), \
libsqlite3-0 (>= 3.40), libpq5, libyaml-0-2, libcurl4 (>= 7.88)${sb_srtp_depends}${sb_malloc_depends}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_SOURCE_DIR}/packaging/conffiles;${CMAKE_SOURCE_DIR}/packaging/postinst;\
${CMAKE_SOURCE_DIR}/packaging/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
