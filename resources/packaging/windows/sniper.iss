; Inno Setup script for Sniper: a per-user installer made from PyInstaller's dist\sniper-app folder.
;   pyinstaller --noconfirm build.spec
;   iscc /DAppVersion=0.1.0 resources\packaging\windows\sniper.iss
; The setup lands in dist\ as sniper-app-VERSION-windows-setup.exe. Paths below are relative to this file.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Sniper"
#define AppExe "sniper-app.exe"
#define Root "..\..\.."

[Setup]
AppId={{7B0C2F5E-5A43-4C8B-9E7D-3C1A55B0E6A1}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Sniper developers
DefaultDirName={autopf}\Sniper
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per user by default (no administrator prompt); the user may still choose an all-users install.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=sniper-app-{#AppVersion}-windows-setup
SetupIconFile={#Root}\resources\icons\sniper.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\sniper-app\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; Snipes, settings and logs live in %LOCALAPPDATA%\sniper-app and are kept on uninstall, like the keyring's
; saved sign-in: reinstalling picks them up again.
