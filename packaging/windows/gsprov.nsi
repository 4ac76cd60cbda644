; The Windows installer: gsprov.exe for the current user (no administrator rights), a
; Start-menu entry with the icon, an uninstaller, and, only when the technician ticks it and
; says yes, Windows Firewall rules for the ports devices use (those need an administrator:
; Windows asks). Built by packaging/windows/build.sh (makensis, Debian's nsis package),
; tested under wine by packaging/windows/test-wine.sh: /S install, the installed exe runs,
; /S uninstall leaves nothing.
;
; makensis -DVERSION=0.1.0 -DEXE=path/gsprov.exe -DOUTFILE=path/setup.exe gsprov.nsi
; (run from the repository's top folder: the icon and licenses are named from there).

; A 64-bit installer for the 64-bit exe (it also runs under a wine without 32-bit support).
Target amd64-unicode
!include MUI2.nsh
!include LogicLib.nsh

!ifndef VERSION
  !error "VERSION is not defined (-DVERSION=...)"
!endif
!ifndef EXE
  !error "EXE is not defined (-DEXE=path to gsprov.exe)"
!endif
!ifndef OUTFILE
  !define OUTFILE "gsprov-${VERSION}-x64-setup.exe"
!endif

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\gsprov"

Name "gsprov ${VERSION}"
OutFile "${OUTFILE}"
; Per user: %LOCALAPPDATA%\Programs, where per-user apps go; no UAC prompt to install.
InstallDir "$LOCALAPPDATA\Programs\gsprov"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
RequestExecutionLevel user
!ifdef COMPRESSOR
  SetCompressor ${COMPRESSOR} ; build.sh: zlib for a test build (seconds instead of minutes)
!else
  SetCompressor /SOLID lzma
!endif
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "gsprov"
VIAddVersionKey "FileDescription" "gsprov installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "2026, gsprov developers (MIT OR Apache-2.0)"

!define MUI_ICON "assets\icons\gsprov.ico"
!define MUI_UNICON "assets\icons\gsprov.ico"
!define MUI_COMPONENTSPAGE_NODESC
!insertmacro MUI_PAGE_LICENSE "LICENSE-MIT"
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "gsprov (the app and the command line)" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "/oname=gsprov.exe" "${EXE}"
  File "/oname=gsprov.ico" "assets\icons\gsprov.ico"
  File "/oname=LICENSE-MIT.txt" "LICENSE-MIT"
  File "/oname=LICENSE-APACHE.txt" "LICENSE-APACHE"
  File "/oname=README.md" "README.md"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "gsprov"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "gsprov developers"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\gsprov.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Start menu entry" SecStartMenu
  CreateShortcut "$SMPROGRAMS\gsprov.lnk" "$INSTDIR\gsprov.exe" "" "$INSTDIR\gsprov.ico" 0
SectionEnd

; Off unless ticked, and asked again before anything changes; never in a silent install.
; The lines are what `gsprov serve` prints under each server on Windows
; (src/serving/privilege.rs, firewall_rule), for the default ports; test-wine.sh checks
; that they match.
Section /o "Windows Firewall rules for the devices' ports (asks for administrator rights)" SecFirewall
  ${If} ${Silent}
    Return
  ${EndIf}
  MessageBox MB_YESNO|MB_ICONQUESTION "Add Windows Firewall rules that let devices on the LAN reach gsprov (TFTP 69, HTTP 8080, HTTPS 8443, syslog 514, plug-and-play 5060, DHCP preflight 68)?$\n$\nWindows will ask for administrator rights." IDYES +2
  Return
  FileOpen $0 "$INSTDIR\firewall-add.cmd" w
  FileWrite $0 '@echo off$\r$\n'
  FileWrite $0 'netsh advfirewall firewall add rule name="gsprov TFTP" dir=in action=allow protocol=UDP localport=69$\r$\n'
  FileWrite $0 'netsh advfirewall firewall add rule name="gsprov HTTP" dir=in action=allow protocol=TCP localport=8080$\r$\n'
  FileWrite $0 'netsh advfirewall firewall add rule name="gsprov HTTPS" dir=in action=allow protocol=TCP localport=8443$\r$\n'
  FileWrite $0 'netsh advfirewall firewall add rule name="gsprov SYSLOG" dir=in action=allow protocol=UDP localport=514$\r$\n'
  FileWrite $0 'netsh advfirewall firewall add rule name="gsprov SIP" dir=in action=allow protocol=UDP localport=5060$\r$\n'
  FileWrite $0 'netsh advfirewall firewall add rule name="gsprov DHCP preflight" dir=in action=allow protocol=UDP localport=68$\r$\n'
  FileClose $0
  FileOpen $0 "$INSTDIR\firewall-remove.cmd" w
  FileWrite $0 '@echo off$\r$\n'
  FileWrite $0 'for %%r in (TFTP HTTP HTTPS SYSLOG SIP) do netsh advfirewall firewall delete rule name="gsprov %%r"$\r$\n'
  FileWrite $0 'netsh advfirewall firewall delete rule name="gsprov DHCP preflight"$\r$\n'
  FileClose $0
  ExecShellWait "runas" "$INSTDIR\firewall-add.cmd"
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "FirewallRules" 1
SectionEnd

Section "Uninstall"
  ReadRegDWORD $0 HKCU "${UNINSTALL_KEY}" "FirewallRules"
  ${If} $0 == 1
  ${AndIf} ${FileExists} "$INSTDIR\firewall-remove.cmd"
    ${IfNot} ${Silent}
      MessageBox MB_YESNO|MB_ICONQUESTION "Remove the Windows Firewall rules gsprov added? Windows will ask for administrator rights." IDNO +2
      ExecShellWait "runas" "$INSTDIR\firewall-remove.cmd"
    ${EndIf}
  ${EndIf}
  Delete "$SMPROGRAMS\gsprov.lnk"
  Delete "$INSTDIR\gsprov.exe"
  Delete "$INSTDIR\gsprov.ico"
  Delete "$INSTDIR\LICENSE-MIT.txt"
  Delete "$INSTDIR\LICENSE-APACHE.txt"
  Delete "$INSTDIR\README.md"
  Delete "$INSTDIR\firewall-add.cmd"
  Delete "$INSTDIR\firewall-remove.cmd"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  RMDir "$LOCALAPPDATA\Programs" ; only when empty (the installer may have made it)
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
