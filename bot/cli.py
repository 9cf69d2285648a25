"""Command line: ``python bot.py [run|ask|index|eval|console]``.

``run`` (the default) starts the Telegram bot when a token is configured, else the local
console chat on a terminal. The other commands use the same core without Telegram.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from bot.answers.render_text import render_answer
from bot.archive import Archive
from bot.config import Config, load_config
from bot.errors import ConfigError, IndexDamaged
from bot.search.lifecycle import IndexManager, ReloadReport

log = logging.getLogger("bot")


class ProgressBar:
    """A one-line progress bar on stderr, shown only for large corpora on a terminal
    (``done`` and ``total`` in bytes of the files being read)."""

    def __init__(self, label: str, minimum: int = 1 << 20) -> None:
        self.label, self.minimum, self._last = label, minimum, 0.0

    def __call__(self, done: int, total: int) -> None:
        if total < self.minimum or not sys.stderr.isatty():
            return
        now = time.monotonic()
        if done != total and now - self._last < 0.1:
            return
        self._last = now
        filled = int(30 * done / total)
        bar = (
            f"[{'#' * filled}{'.' * (30 - filled)}] {100 * done / total:3.0f}% of {total >> 20} MB"
        )
        sys.stderr.write(f"\r{self.label} {bar}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def print_report(report: ReloadReport) -> None:
    if report.damaged:
        print(f"stored index was unusable ({report.damaged}): rebuilt")
    print(f"articles: {report.articles}")
    print(f"passages: {report.passages}")
    if report.rebuilt:
        added, changed, removed = len(report.added), len(report.changed), len(report.removed)
        print(f"added: {added}, changed: {changed}, removed: {removed}")
    else:
        print("corpus unchanged: stored index loaded")
    print(f"skipped files: {len(report.skipped)}")
    for skipped in report.skipped:
        print(f"  {skipped.path}: {skipped.reason}")
    print(f"time: {report.seconds:.2f} s")


def cmd_ask(config: Config, args: argparse.Namespace) -> int:
    archive, _ = Archive.open(config, ProgressBar("indexing"))
    answer = archive.engine.ask(" ".join(args.question))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_answer(answer))
    return 0


def cmd_index(config: Config, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    manager = IndexManager(config.corpus_dir, config.index_dir)
    if args.rebuild:  # never reads the stored index: a damaged one cannot get in the way
        report = manager.reload(ProgressBar("indexing"), force=True)
    else:
        report = manager.open(ProgressBar("indexing"))
    merges = manager.merge_all()
    try:
        manager.verify()
    except IndexDamaged as error:
        print(f"stored index damaged ({error}): rebuilding it")
        report = manager.reload(ProgressBar("indexing"), force=True)
        merges += manager.merge_all()
    manager.drop_superseded()
    report.seconds = time.perf_counter() - started
    print_report(report)
    if merges:
        print(f"merged: {merges} time(s), {len(manager.index.segments)} segment(s) now")
    manager.close()
    return 0


def cmd_eval(config: Config, args: argparse.Namespace) -> int:
    from bot.evaluation import evaluate_beir, evaluate_qa, load_beir, load_qa

    if args.beir:
        results = evaluate_beir(load_beir(args.beir, args.split))
    else:
        corpus_config = Config(corpus_dir=args.corpus, data_dir=config.data_dir / "eval")
        archive, report = Archive.open(corpus_config, ProgressBar("indexing"))
        print(f"articles: {report.articles}, passages: {report.passages}")
        results = evaluate_qa(archive.engine, load_qa(args.qa), args.reply_quotes, args.breakdown)
    for name, value in results.items():
        print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")
    return 0


def cmd_console(config: Config, args: argparse.Namespace) -> int:
    from bot.console import run_console

    return run_console(config)


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    if config.token:
        from bot.telegram_app.run import run_telegram

        return run_telegram(config)
    if sys.stdin.isatty():
        print("No TELEGRAM_BOT_TOKEN set: starting the local console chat (Ctrl-D to quit).\n")
        return cmd_console(config, args)
    print(
        "No TELEGRAM_BOT_TOKEN set and no terminal to chat on.\n"
        "Set TELEGRAM_BOT_TOKEN (see .env.example) to run the Telegram bot, or try\n"
        '  python bot.py ask "What did Pompeo accuse TikTok of?"',
        file=sys.stderr,
    )
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description="Newsroom Q&A bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the Telegram bot (or the console chat without a token)")
    sub.add_parser("console", help="chat with the bot locally in this terminal")
    ask = sub.add_parser("ask", help="answer one question from the corpus")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    index = sub.add_parser("index", help="build or update the search index")
    index.add_argument(
        "--rebuild", action="store_true", help="build anew, never reading the stored index"
    )
    ev = sub.add_parser("eval", help="measure retrieval (BEIR) or answers (QA file)")
    group = ev.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--beir", type=Path, metavar="DIR", help="BEIR folder (corpus, queries, qrels)"
    )
    group.add_argument("--qa", type=Path, metavar="FILE", help='JSONL of {"question", "answers"}')
    ev.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    ev.add_argument("--corpus", type=Path, help="corpus directory for --qa")
    ev.add_argument("--reply-quotes", type=int, default=3, help="quotes in the first reply")
    ev.add_argument(
        "--breakdown", action="store_true", help="--qa: also passage@1/3/10 (ranking alone)"
    )
    return parser


COMMANDS = {
    "ask": cmd_ask,
    "index": cmd_index,
    "eval": cmd_eval,
    "console": cmd_console,
    "run": cmd_run,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "eval" and args.qa and not args.corpus:
        parser.error("--qa needs --corpus DIR")
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    needs_corpus = not (args.command == "eval" and args.beir)
    if needs_corpus and not config.corpus_dir.is_dir():
        print(
            f"configuration error: corpus directory {config.corpus_dir} does not exist "
            "(set BOT_CORPUS_DIR)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return COMMANDS[args.command or "run"](config, args)
    except BrokenPipeError:  # the reader closed the pipe (``bot.py ask … | head -3``): done
        # Python flushes stdout again at exit: point it at /dev/null so that is quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
