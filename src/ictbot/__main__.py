from ictbot.cli.main import app

app(prog_name="ictbot")
