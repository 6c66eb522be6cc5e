"""Packaging for wmil: every field comes from settings.ini (nbdev 2's single source of truth)."""
from configparser import ConfigParser
from pathlib import Path
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable']
lic = licenses[cfg['license']]
reqs = lambda key: cfg.get(key, '').split()

setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    long_description=(Path(__file__).parent/'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'], license=lic[0],
    keywords=cfg['keywords'], url=cfg['git_url'],
    classifiers=[f"Development Status :: {statuses[int(cfg['status'])-1]}",
                 f"Intended Audience :: {cfg['audience']}", f"License :: {lic[1]}",
                 f"Natural Language :: {cfg['language']}", 'Programming Language :: Python :: 3'],
    python_requires=f">={cfg['min_python']}",
    packages=setuptools.find_packages(include=['wmil', 'wmil.*']),
    package_data={'wmil': ['configs/*.yaml', 'prompts/*.yaml']}, include_package_data=True,
    install_requires=reqs('requirements'),
    extras_require={'dev': reqs('dev_requirements'), 'tensorboard': reqs('tensorboard_requirements'),
                    'llm': reqs('llm_requirements'), 'llm-server': reqs('llm_server_requirements'), 'ray': reqs('ray_requirements'), 'lab': reqs('lab_requirements')},
    entry_points={'console_scripts': cfg['console_scripts'].split(),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    zip_safe=False)
