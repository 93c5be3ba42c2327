# Installing mailreqd like a real service, and packaging it as a .deb.
#
#   cmake --install BUILD [--prefix /usr]     binary, unit, sysusers, tmpfiles, docs, man
#   (cd BUILD && cpack -G DEB)                mailreqd_VERSION_ARCH.deb
#
# Nothing goes to /etc: the config is the operator's (an example lands in the doc dir),
# and the tmpfiles rule creates /etc/mailreqd with empty, root-only password files.
# Included from the top-level CMakeLists.txt, after the mailreqd target is defined.
include(GNUInstallDirs)

install(TARGETS mailreqd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

# The unit names the binary by absolute path: point it at this prefix's sbin.
set(MAILREQD_UNIT_SOURCE ${PROJECT_SOURCE_DIR}/systemd/mailreqd.service)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${MAILREQD_UNIT_SOURCE})
file(READ ${MAILREQD_UNIT_SOURCE} MAILREQD_UNIT)
string(REPLACE "/usr/sbin/mailreqd" "${CMAKE_INSTALL_FULL_SBINDIR}/mailreqd" MAILREQD_UNIT
  "${MAILREQD_UNIT}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/systemd/mailreqd.service CONTENT "${MAILREQD_UNIT}"
  @ONLY)

# systemd searches lib/ under /usr and /usr/local for units, sysusers.d and tmpfiles.d.
install(FILES ${PROJECT_BINARY_DIR}/systemd/mailreqd.service DESTINATION lib/systemd/system)
install(FILES systemd/mailreqd.sysusers DESTINATION lib/sysusers.d RENAME mailreqd.conf)
install(FILES systemd/mailreqd.tmpfiles DESTINATION lib/tmpfiles.d RENAME mailreqd.conf)
install(FILES config/mailreqd.example.yaml README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The built-in reply texts, for operators who override some in templates_dir.
install(DIRECTORY templates/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/templates
  FILES_MATCHING PATTERN "*.txt")
install(FILES config/mailreqd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES config/mailreqd.yaml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

# --- the Debian package -------------------------------------------------------------------
set(MAILREQD_PACKAGE_MAINTAINER "mailreqd maintainers <mailreqd@localhost>" CACHE STRING
  "Maintainer field of the .deb")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mailreqd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "${MAILREQD_PACKAGE_MAINTAINER}")
# The package installs where the binary and unit were configured for (build it with
# -DCMAKE_INSTALL_PREFIX=/usr): one prefix, so ExecStart= and the files agree.
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION "mailreqd reads a customer-service mailbox over IMAP, \
classifies each request (unsubscribe, data access, correction, privacy information, \
marketing opt-out), records it in SQLite and replies over SMTP. It runs as a hardened \
systemd service.")
# Library dependencies come from dpkg-shlibdeps when it is there (dpkg-dev); otherwise
# the Debian 12 names are listed by hand.
find_program(MAILREQD_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(MAILREQD_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 250)")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 250), libcurl4, libsqlite3-0, libyaml-cpp0.7, \
libmimetic0v5, libsystemd0, libssl3, libstdc++6, libc6")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
# Maintainer scripts: create the user and directories, enable the unit (it only starts
# once /etc/mailreqd/mailreqd.yaml exists: ConditionPathExists=).
set(MAILREQD_PREFIX ${CMAKE_INSTALL_PREFIX})
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/systemd/debian/${script}.in
    ${PROJECT_BINARY_DIR}/systemd/debian/${script} @ONLY
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
  list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/systemd/debian/${script})
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# The default RelWithDebInfo build carries -g: ship the binary without it.
set(CPACK_STRIP_FILES TRUE)
include(CPack)

# --- tests of the installed shape ---------------------------------------------------------
if(MAILREQD_TESTS)
  add_test(NAME systemd_unit_test
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/systemd_test.sh $<TARGET_FILE:mailreqd>)
  set_tests_properties(systemd_unit_test PROPERTIES LABELS "systemd" SKIP_RETURN_CODE 77
    TIMEOUT 60)
  add_test(NAME package_test
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/package_test.sh ${PROJECT_BINARY_DIR}
      ${CMAKE_INSTALL_PREFIX})
  set_tests_properties(package_test PROPERTIES LABELS "package" SKIP_RETURN_CODE 77
    TIMEOUT 600 RUN_SERIAL TRUE)
endif()
