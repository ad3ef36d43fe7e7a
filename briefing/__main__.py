from briefing.cli.main import app

app(prog_name="briefing")
