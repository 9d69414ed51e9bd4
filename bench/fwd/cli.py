"""Command-line helpers shared by compare-fwd and count-fwd-instructions."""

import argparse


def csv(allowed):
    """argparse type: a comma-separated, non-empty list of names from allowed."""
    def parse(text):
        items = [x for x in text.split(",") if x]
        bad = [x for x in items if x not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"'{text}': choose from {', '.join(allowed)}")
        return items
    return parse
