# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/charts.py draws every chart of a benchmark run from its results JSON alone (no Docker): each picture
appears, names everything it compares as text, shows a zero as a labelled 0; the page's charts section gives each
chart a caption (what to read, the run's date, machine and commit), its alt text and its figures, and says what
the results lack; the charts docs/performance.md links are the ones the last full run gives."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import xml.etree.ElementTree as ET

import pytest

from tests.unit.bench.bench_results import CONTENDERS, LABELS, REPO_ROOT, results

# bench/charts.py: bench/ is on the path once bench_results is imported
import charts  # noqa: E402  pylint: disable=wrong-import-order


def svg_texts(path):
    """Every text of an SVG (matplotlib writes each line of a text as a <text> element)."""
    root = ET.parse(path).getroot()
    return [''.join(element.itertext()) for element in root.iter('{http://www.w3.org/2000/svg}text')]


@pytest.fixture(scope='module')
def drawn(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('charts'))
    data = results()
    return data, out, charts.render(data, out)


def test_every_chart_is_drawn_from_a_full_run(drawn):
    _data, out, made = drawn
    assert [chart.name for chart in made] == list(charts.CHART_NAMES)
    assert sorted(os.listdir(out)) == sorted(name + '.svg' for name in charts.CHART_NAMES)
    for chart in made:
        assert os.path.getsize(os.path.join(out, chart.name + '.svg')) > 1000


def test_each_chart_names_everything_it_compares_as_text(drawn):
    _data, out, made = drawn
    for chart in made:
        texts = svg_texts(os.path.join(out, chart.name + '.svg'))
        assert chart.labels, chart.name
        for label in chart.labels:
            assert any(label in text for text in texts), '%s.svg does not name %r' % (chart.name, label)
        assert chart.title in texts


def test_the_scale_chart_names_every_contender(drawn):
    _data, out, _made = drawn
    texts = svg_texts(os.path.join(out, 'scale-growth.svg'))
    for contender in CONTENDERS:
        assert LABELS[contender] in texts, contender
    assert 'collection (ansible-playbook wall)' in texts


def test_the_other_charts_name_what_they_compare(drawn):
    _data, out, _made = drawn
    expected = {
        'fleet-growth': ['collection (module time)', 'raw SDK, 8 threads', 'docker-compose 1.29'],
        'noop-requests': ['dokku_ps_app', 'dokku_ps_scale', 'dokku_ps_policy', 'dokku_ps_state started',
                          'dokku_ps_fleet (1 app)', 'dokku_ps_fleet no-op of N apps',
                          'its first no-op right after the deploy'],
        'proxy-throughput': ['through nginx (3 web containers)', 'straight to one web container', 'https', 'http'],
        'failed-requests': ['rollout of web=3', 'rollback of web=3', 'scale-down 3 → 1', 'rollout of web=3 over https',
                            'control: nginx reloads only', charts.FRESH, charts.KEEP_ALIVE],
        'swarm': ['docker-local', 'swarm (single node)', 'scale a worker type 0 → 30', 'rollout of web=10, all at once'],
    }
    for name, labels in expected.items():
        text = '\n'.join(svg_texts(os.path.join(out, name + '.svg')))
        for label in labels:
            assert label in text, (name, label)


def test_a_zero_of_failed_requests_is_labelled(drawn):
    _data, out, _made = drawn
    texts = svg_texts(os.path.join(out, 'failed-requests.svg'))
    # the fixture: rollouts 0 of 41,000 fresh and 2 of 102,000 keep-alive; rollbacks 0 of 36,500 and 0 of 95,000;
    # rollouts over https 0 of 18,500 and 1 of 61,000
    for count, sent in (('0', 'of 41,000'), ('2', 'of 102,000'), ('0', 'of 36,500'), ('0', 'of 95,000'),
                        ('0', 'of 18,500'), ('1', 'of 61,000')):
        index = texts.index(sent)
        assert texts[index - 1] == count, (count, sent)
    assert 'not' in texts and 'measured' in texts  # the control has no fresh connections


def test_each_picture_tells_its_run(drawn):
    data, out, made = drawn
    for chart in made:
        texts = svg_texts(os.path.join(out, chart.name + '.svg'))
        assert any(charts.stamp(data['meta']) in text for text in texts), chart.name
    assert 'commit 0123456' in charts.stamp(data['meta'])
    assert '2026-12-07 10:00' in charts.stamp(data['meta'])
    assert '2 CPUs (AMD EPYC 7B13), 24 GiB, docker 26.1.5+dfsg1' in charts.stamp(data['meta'])


def test_a_redrawing_writes_the_same_bytes(drawn, tmp_path):
    data, out, _made = drawn
    charts.render(data, str(tmp_path))
    for name in charts.CHART_NAMES:
        with open(os.path.join(out, name + '.svg'), 'rb') as first, open(str(tmp_path / (name + '.svg')), 'rb') as again:
            assert first.read() == again.read(), name


def test_a_redrawing_removes_the_charts_the_results_no_longer_give(tmp_path):
    out = str(tmp_path)
    charts.render(results(), out)
    stray = tmp_path / 'notes.txt'
    stray.write_text('not a chart')
    made = charts.render(results(without=('proxy', 'https', 'swarm')), out)
    assert [chart.name for chart in made] == ['scale-growth', 'fleet-growth', 'noop-requests']
    assert sorted(os.listdir(out)) == ['fleet-growth.svg', 'noop-requests.svg', 'notes.txt', 'scale-growth.svg']


def test_the_page_section_gives_each_chart_its_picture_caption_and_figures(drawn):
    data, _out, made = drawn
    text = charts.section(data, made, 'images/bench')
    assert text.startswith('Run: `bench/run.py`, 2026-12-07 10:00:00 to 2026-12-07 10:18; 2 CPUs (AMD EPYC 7B13), '
                           '24 GiB, docker 26.1.5+dfsg1; ansible-core 2.19.14, Python 3.11.7; commit '
                           '0123456789abcdef0123456789abcdef01234567.')
    for chart in made:
        picture = '![%s](images/bench/%s.svg)' % (chart.alt, chart.name)
        assert picture in text
        after = text.split(picture, 1)[1].lstrip('\n').splitlines()
        assert after[0].startswith('*What to read: ') and after[0].endswith(
            '(run of 2026-12-07 10:00, 2 CPUs (AMD EPYC 7B13), 24 GiB, docker 26.1.5+dfsg1, commit 0123456.)*')
        assert after[2].startswith('| ') and after[3].startswith('|---|'), chart.name  # its figures, as a table
        assert '[' not in chart.alt and ']' not in chart.alt
    assert re.search(r'\| docker run -d loop \| – \| [0-9.]+ \([0-9.]+–[0-9.]+\) \| – \|', text)
    assert '| rollout of web=3 | 2 | 0 of 41,000 | 2 of 102,000 |' in text
    assert '| rollback of web=3 | 2 | 0 of 36,500 | 0 of 95,000 |' in text
    assert '| rollout of web=3 over https | 2 | 0 of 18,500 | 1 of 61,000 |' in text
    assert '| control: nginx reloads only | 1 | – | 9 of 30,000 |' in text


def test_the_figures_of_the_growth_table_are_the_results(drawn):
    data, _out, made = drawn
    table = '\n'.join(next(chart for chart in made if chart.name == 'scale-growth').table)
    entry = data['summary']['scenarios']['scale_up_30']['contenders']['collection']['module']
    assert '%.2f (%.2f–%.2f)' % (entry['median'], entry['min'], entry['max']) in table
    assert table.splitlines()[0] == ('| contender | 0 → 10 (n=2) | 0 → 30 (n=3) | 0 → 100 (n=2) | 10 → 0 (n=2) '
                                     '| 30 → 0 (n=3) | 100 → 0 (n=2) |')


def test_what_the_results_lack_is_said():
    full = charts.missing(results())
    assert [gap.split('**')[1] for gap in full] == ['The `docker run` loop, sequential SDK calls and compose at every N']
    older = results()  # a run from before issue 25 loaded a rollback and a rollout over https
    del older['proxy']['rollback']
    del older['https']['rollout']
    assert [gap.split('**')[1] for gap in charts.missing(older)][:2] == [
        'Failed requests during a rollback', 'Failed requests during a rollout over https']
    data = results(without=('proxy', 'https', 'swarm'))
    data['meta']['only'] = ['scale', 'growth']
    del data['meta']['commit']
    del data['meta']['machine']
    gaps = charts.missing(data)
    for section, issue in (('proxy', 14), ('https', 22), ('swarm', 24)):
        said = [gap for gap in gaps if 'no `%s` section' % section in gap]
        assert len(said) == 1 and '(`only`: scale, growth)' in said[0] and 'issue %d' % issue in said[0], section
    assert any(gap.startswith('**The commit measured**') for gap in gaps)
    assert any(gap.startswith("**The machine's CPU model and memory**") for gap in gaps)
    assert 'commit not recorded' in charts.stamp(data['meta'])


def test_a_proxy_run_without_wrk_says_why_it_has_no_throughput():
    data = results()
    data['proxy']['throughput'] = []
    data['proxy']['settings']['wrk_skip'] = 'wrk is not installed'
    assert '**Requests/s of the proxy scenario**: not measured: wrk is not installed.' in charts.missing(data)
    names = [chart.name for chart in charts.describe(data)]
    assert 'proxy-throughput' in names  # the https panels remain


def test_a_small_run_names_its_sizes_as_they_ran():
    data = results(without=('proxy', 'https', 'swarm'))
    data['meta']['small'] = True
    chart = charts.scale_growth(data)
    assert '0 → 3 (n=3)' in chart.table[0]  # scale_up_30 ran at 3 containers with --small


def test_the_page_section_is_replaced_between_its_markers(tmp_path):
    doc = tmp_path / 'performance.md'
    doc.write_text('# Performance\n\nbefore\n\n%s\nold\n%s\n\nafter\n' % (charts.BEGIN, charts.END), encoding='utf-8')
    assert charts.update_page('new text', str(doc))
    assert doc.read_text(encoding='utf-8') == '# Performance\n\nbefore\n\n%s\n\nnew text\n\n%s\n\nafter\n' % (
        charts.BEGIN, charts.END)
    plain = tmp_path / 'plain.md'
    plain.write_text('# Plain\n', encoding='utf-8')
    assert not charts.update_page('new text', str(plain))


def test_regenerate_draws_and_rewrites_the_page(tmp_path):
    doc = tmp_path / 'docs' / 'performance.md'
    doc.parent.mkdir()
    doc.write_text('%s\n%s\n' % (charts.BEGIN, charts.END), encoding='utf-8')
    out = tmp_path / 'docs' / 'images' / 'bench'
    made, page = charts.regenerate(results(), None, str(out), str(doc))
    assert page
    text = doc.read_text(encoding='utf-8')
    for chart in made:
        assert '](images/bench/%s.svg)' % chart.name in text
        assert (out / (chart.name + '.svg')).is_file()


def test_only_the_last_full_run_goes_to_the_page(tmp_path, capsys):
    other = tmp_path / 'partial.json'
    other.write_text('{}', encoding='utf-8')
    with pytest.raises(SystemExit):
        charts.main([str(other)])
    assert 'give --out DIR' in capsys.readouterr().err
    assert charts.main([str(other), '--out', str(tmp_path / 'out')]) == 0
    assert os.listdir(str(tmp_path / 'out')) == []  # nothing in an empty results file, and no page touched


def test_the_page_links_the_charts_of_the_last_full_run():
    """docs/performance.md shows the charts bench/results/latest.json gives, all of them drawn, with the captions
    and figures bench/charts.py makes of it (so a full run's results are not committed without their charts)."""
    data = charts.load(charts.DEFAULT_RESULTS)
    made = charts.describe(data)
    with open(charts.DOC, encoding='utf-8') as handle:
        page = handle.read()
    linked = re.findall(r'!\[[^\]]*\]\(images/bench/([a-z-]+)\.svg\)', page)
    assert linked == [chart.name for chart in made]
    for name in linked:
        assert os.path.isfile(os.path.join(REPO_ROOT, 'docs', 'images', 'bench', name + '.svg')), name
    # all but its first paragraph (the run, with what git tells of a run that recorded no commit: a clone's history)
    generated = charts.section(data, made, 'images/bench').split('\n\n', 1)[1]
    assert generated.strip() + '\n\n' + charts.END in page
