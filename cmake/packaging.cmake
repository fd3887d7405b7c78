# What `cmake --install` and the .deb packages (CPack) contain.
#
#   avmon      the binary, /etc/avmon/default.yaml (every option with its
#              default), the systemd template unit avmon@.service, the docs
#   avmon-dev  the detector SDK: headers, a CMake package (find_package(avmon)
#              -> avmon::sdk) and a pkg-config file (avmon.pc)
#
# Packages are made from a configured build with the install prefix /usr
# (scripts/package does that for build/): there GNUInstallDirs puts the
# configuration under /etc; under any other prefix it goes to PREFIX/etc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(AVMON_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/avmon)

# ---- runtime
install(TARGETS avmon RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/configs/default.yaml DESTINATION ${AVMON_CONFIG_DIR} COMPONENT runtime)
configure_file(${PROJECT_SOURCE_DIR}/deploy/systemd/avmon@.service.in
               ${PROJECT_BINARY_DIR}/packaging/avmon@.service @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/avmon@.service
        DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime
        FILES_MATCHING PATTERN "*.md" PATTERN "*.png")

# ---- dev: the SDK is header-only; its package files are architecture
# independent (share/), so avmon-dev is Architecture: all.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/avmon DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
file(STRINGS ${PROJECT_SOURCE_DIR}/include/avmon/plugin.hpp abi_line REGEX "^#define AVMON_ABI_VERSION ")
string(REGEX MATCH "[0-9]+" AVMON_ABI_VERSION "${abi_line}")
set(AVMON_OPENCV_INCLUDE_DIR ${OPENCV_INCLUDE_DIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/avmonConfig.cmake.in ${PROJECT_BINARY_DIR}/packaging/avmonConfig.cmake @ONLY)
# 0.x: a minor version may change the SDK; 1.x on: same major.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/packaging/avmonConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/packaging/avmonConfig.cmake ${PROJECT_BINARY_DIR}/packaging/avmonConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/avmon COMPONENT dev)
configure_file(${PROJECT_SOURCE_DIR}/cmake/avmon.pc.in ${PROJECT_BINARY_DIR}/packaging/avmon.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/avmon.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig COMPONENT dev)

# ---- Debian packages
set(AVMON_PACKAGE_MAINTAINER "avmon developers <avmon@localhost>" CACHE STRING "Maintainer field of the .deb packages")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME avmon)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "avmon developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "live audio/video stream monitor")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${AVMON_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME avmon)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION video)
# Depends: what the binary links, found by dpkg-shlibdeps.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "live audio/video stream monitor\n\
Watches one live stream per process (any input FFmpeg opens: files, UDP/RTP\n\
multicast, SRT, RTMP, RTSP, HLS), decodes it once and reports black, frozen,\n\
corrupt or test-pattern pictures, silence, clipping, phase inversion, tone,\n\
loudness and A/V sync defects as JSON event lines, to webhooks, Alertmanager\n\
and MQTT, with Prometheus metrics and a status page. One instance per stream\n\
runs as the systemd service avmon@STREAM with /etc/avmon/STREAM.yaml.")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME avmon-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE all)
# The host must have the SDK's ABI: the same version.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "avmon (= ${PROJECT_VERSION}), nlohmann-json3-dev (>= 3), libopencv-core-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "avmon detector plugin SDK\n\
Headers, CMake package (find_package(avmon) gives avmon::sdk) and pkg-config\n\
file for building avmon detector plugins (docs/plugins.md).")
include(CPack)
