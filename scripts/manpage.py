"""manpage.py BINARY > NAME.1: a man page (roff) for one of the toolkit's programs, from the
description swift-argument-parser gives of it (`BINARY --experimental-dump-help`): name, synopsis,
description, options, and each subcommand with its own options. Python 3 standard library only.
"""
import datetime, json, subprocess, sys

binary = sys.argv[1]
info = json.loads(subprocess.run([binary, "--experimental-dump-help"], capture_output=True, check=True).stdout)["command"]
version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.splitlines()
version = version[0] if version else ""


def esc(text):
    out = []
    for line in (text or "").replace("\\", "\\e").splitlines():
        out.append(("\\&" + line) if line.startswith((".", "'")) else line)
    return "\n".join(out)


def flag(arg):
    names = [("--" if n["kind"] == "long" else "-") + n["name"] for n in arg.get("names", [])]
    if arg["kind"] == "positional":
        return "<" + arg.get("valueName", "value") + ">"
    value = " <" + arg["valueName"] + ">" if arg["kind"] == "option" and arg.get("valueName") else ""
    return ", ".join(names) + value


def options(cmd, heading):
    args = [a for a in cmd.get("arguments", []) if a.get("shouldDisplay", True)]
    if not args:
        return []
    out = [f".SH {heading}"]
    for a in args:
        out.append(".TP")
        out.append("\\fB" + esc(flag(a)) + "\\fR")
        text = a.get("abstract", "")
        if "defaultValue" in a:
            text += f" (default: {a['defaultValue']})"
        out.append(esc(text))
    return out


name = info["commandName"]
lines = [f'.TH {name.upper()} 1 "{datetime.date.today().isoformat()}" "{esc(version)}" "mltools"',
         ".SH NAME", f"{name} \\- {esc(info.get('abstract', ''))}",
         ".SH SYNOPSIS", f"\\fB{name}\\fR" + (" <subcommand>" if info.get("subcommands") else "") + " [options] [inputs ...]"]
if info.get("discussion"):
    lines += [".SH DESCRIPTION", esc(info["discussion"])]
lines += options(info, "OPTIONS")
for sub in info.get("subcommands", []):
    if sub["commandName"] == "help" or not sub.get("shouldDisplay", True):
        continue
    lines += [f".SH {sub['commandName'].upper()}", f"\\fB{name} {sub['commandName']}\\fR \\- {esc(sub.get('abstract', ''))}"]
    if sub.get("discussion"):
        lines += [".PP", esc(sub["discussion"])]
    lines += [l.replace(".SH OPTIONS", ".SS Options") for l in options(sub, "OPTIONS")]
lines += [".SH SEE ALSO", "The toolkit's README.md and Tools/" + name + "/README.md."]
print("\n".join(lines))
